// Mounts the dashboard on the one HttpServer: GET / (page), GET /dashboard/* (script, uPlot from node_modules,
// no CDN) and GET /api/statistics (the JSON the page starts from; any operator tool may read it too).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HttpServer } from '../http/HttpServer.js';
import { jsonReply } from '../http/HttpServer.js';
import type { StatisticsSource } from '../operations/StatisticsSource.js';
import { DASHBOARD_HTML, DASHBOARD_JS } from './page.js';

export interface DashboardContext {
  readonly statistics: StatisticsSource;
  /** 'logged-in', 'connecting', … as the node link last reported. */
  readonly upstreamState: () => string;
  /** Where the page finds the event API (port 0 = off) and whether it needs a token (?token= on the page URL). */
  readonly eventApi: () => { port: number; tokenRequired: boolean };
}

const require = createRequire(import.meta.url);

function uplotFile(name: string): Buffer {
  return readFileSync(require.resolve(`uplot/dist/${name}`));
}

export function mountDashboard(http: HttpServer, ctx: DashboardContext): void {
  const uplotJs = uplotFile('uPlot.iife.min.js');
  const uplotCss = uplotFile('uPlot.min.css');
  const html = { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'" };
  http.route('GET', '/', () => ({ status: 200, headers: html, body: DASHBOARD_HTML }));
  http.route('GET', '/dashboard/app.js', () => ({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' }, body: DASHBOARD_JS }));
  http.route('GET', '/dashboard/uPlot.iife.min.js', () => ({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' }, body: uplotJs }));
  http.route('GET', '/dashboard/uPlot.min.css', () => ({ status: 200, headers: { 'content-type': 'text/css; charset=utf-8' }, body: uplotCss }));
  http.route('GET', '/favicon.ico', () => ({ status: 204, body: '' }));
  http.route('GET', '/api/statistics', () =>
    jsonReply(200, {
      pool: ctx.statistics.pool(),
      miners: ctx.statistics.miners(500),
      series: ctx.statistics.poolSeries(),
      upstream: ctx.upstreamState(),
      eventApi: ctx.eventApi(),
    }),
  );
}
