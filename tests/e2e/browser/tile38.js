/* A tiny Tile38 client for the browser tests (RESP over a socket, JSON output):
 * the test asks Tile38 itself what the page should have drawn. */
'use strict';
const net = require('net');

function encode(args) {
  let s = '*' + args.length + '\r\n';
  for (const a of args) {
    const b = Buffer.from(String(a));
    s += '$' + b.length + '\r\n' + b.toString() + '\r\n';
  }
  return s;
}

/* Reads one RESP value from buf at pos; returns [value, next] or null if incomplete. */
function parse(buf, pos) {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[pos]), line = buf.toString('utf8', pos + 1, nl);
  if (type === '+' || type === ':') return [line, nl + 2];
  if (type === '-') return [new Error(line), nl + 2];
  if (type === '$') {
    const n = parseInt(line, 10);
    if (n < 0) return [null, nl + 2];
    if (buf.length < nl + 2 + n + 2) return null;
    return [buf.toString('utf8', nl + 2, nl + 2 + n), nl + 2 + n + 2];
  }
  if (type === '*') {
    const n = parseInt(line, 10), out = [];
    let p = nl + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return null;
      out.push(r[0]);
      p = r[1];
    }
    return [out, p];
  }
  throw new Error('unexpected RESP type ' + type);
}

/* Runs the commands in order on one connection in JSON mode; resolves to their
 * parsed JSON replies. */
function tile38(addr, commands) {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), +addr.slice(addr.lastIndexOf(':') + 1)];
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let buf = Buffer.alloc(0);
    const want = commands.length + 1, replies = [];
    sock.setTimeout(15000, () => { sock.destroy(); reject(new Error('Tile38 ' + addr + ': timeout')); });
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(encode(['OUTPUT', 'json']) + commands.map(encode).join(''));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let r;
      while (replies.length < want && (r = parse(buf, 0))) {
        replies.push(r[0]);
        buf = buf.subarray(r[1]);
      }
      if (replies.length === want) {
        sock.end();
        try {
          resolve(replies.slice(1).map((x) => (x instanceof Error ? { ok: false, err: x.message }
                                                                   : JSON.parse(x))));
        } catch (e) { reject(e); }
      }
    });
  });
}

module.exports = { tile38 };
