// Reads TCP_NODELAY off another process's end of a TCP connection, by
// duplicating its descriptor (pidfd_getfd: root, Linux 5.6+), so a spec
// checks the option the server really set rather than trusting its code.
import { execFileSync } from 'node:child_process';

const SCRIPT = `
import ctypes, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
pid, port = int(sys.argv[1]), int(sys.argv[2])
pidfd = libc.syscall(434, pid, 0)
if pidfd < 0: sys.exit(f'pidfd_open({pid}) failed: errno {ctypes.get_errno()}')
for name in os.listdir(f'/proc/{pid}/fd'):
    try: target = os.readlink(f'/proc/{pid}/fd/{name}')
    except OSError: continue
    if not target.startswith('socket:'): continue
    fd = libc.syscall(438, pidfd, int(name), 0)
    if fd < 0: continue
    s = socket.socket(fileno=fd)
    try:
        if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM and s.getpeername()[1] == port:
            print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)); sys.exit(0)
    except OSError: pass
    finally: s.close()
print('none')
`;

/**
 * Whether `pid`'s end of the TCP connection whose client port is `clientPort` has Nagle's algorithm
 * off; undefined when that process holds no such connection.
 */
export function tcpNoDelayIn(pid: number, clientPort: number): boolean | undefined {
  const out = execFileSync('/usr/bin/python3', ['-c', SCRIPT, String(pid), String(clientPort)]).toString().trim();
  return out === 'none' ? undefined : out !== '0';
}
