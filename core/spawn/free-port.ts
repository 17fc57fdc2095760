// A free TCP port on a loopback address, for apps started on $PORT. get-port
// is loaded by the first such spawn, not by every core; plugins use this
// (kernel.freePort or the export) instead of resolving get-port themselves.
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { default: getPort } = await import('get-port');
  return getPort({ host });
}
