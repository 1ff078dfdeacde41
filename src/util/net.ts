/** A free TCP port on loopback (the OS picks; we release it for the caller to bind). */
import net from 'node:net';

export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address() as { port: number };
      s.close(() => resolve(a.port));
    });
  });
}
