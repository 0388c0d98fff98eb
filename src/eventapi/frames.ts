// Server-to-client WebSocket text frames (RFC 6455 §5.2: FIN + opcode 1, unmasked). Built once per event and
// written as the same bytes to every subscriber, so a broadcast costs one JSON.stringify and one frame per event.

export function textFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const length = body.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, body]);
}
