// The floor: a bare node:http server answering a fixed 200-byte JSON body. Run as its own process
// (so it never shares an event loop with autocannon); prints `PORT <n>` once it listens.
import http from 'node:http';

const payload = { data: { id: 'task_0123456789abcdef', title: 'A fixed body for the floor', status: 'todo', priority: 'high' }, meta: {} };
let text = JSON.stringify(payload);
// Pad to exactly 200 bytes so the floor is comparable run to run.
text = JSON.stringify({ ...payload, pad: 'x'.repeat(Math.max(0, 200 - text.length - ',"pad":""'.length)) });
const body = Buffer.from(text);
if (body.length !== 200) throw new Error(`bare body is ${body.length} bytes, not 200`);

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`PORT ${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
