"""Small milters written here for the tests (tests/integration/
test_milter.py): a well-behaved one whose end-of-message answer the test
chooses (edits, reject), and hostile ones: closes the connection in the
middle of the body, answers garbage, sleeps past the timeout. Each is a
thread serving a loopback port; it records the commands and macros it
was sent, so the test can check what the MTA told it."""
import socket
import struct
import threading
import time

from conftest import free_port


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


class FakeMilter:
    """mode: "ok" (continue everything; at the end send self.eom, a list
    of packets, then self.final), "close_mid_body", "garbage", "sleep"
    (at the end of the message, sleep self.sleep seconds), "hold" (at the
    end of the message, wait until the test calls release(), then go on
    as "ok")."""

    def __init__(self, mode="ok", eom=(), final=b"c", sleep=30, protocol=0):
        self.mode, self.eom, self.final, self.sleep = mode, list(eom), final, sleep
        self.protocol = protocol
        self.port = free_port()
        self.seen = []          # (cmd, data) of every command, all connections
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.stopping = False
        self.released = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def spec(self):
        return f"inet:127.0.0.1:{self.port}"

    def release(self):
        self.released.set()

    def stop(self):
        self.stopping = True
        self.released.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _read(c, n):
        b = b""
        while len(b) < n:
            d = c.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b

    def headers(self):
        """(name, value) of every SMFIC_HEADER seen."""
        out = []
        for cmd, data in self.seen:
            if cmd == b"L":
                name, value = data.split(b"\0")[:2]
                out.append((name.decode(), value.decode()))
        return out

    def macros(self):
        out = {}
        for cmd, data in self.seen:
            if cmd == b"D":
                parts = data[1:].split(b"\0")
                for i in range(0, len(parts) - 1, 2):
                    out[parts[i].decode()] = parts[i + 1].decode()
        return out

    def _serve(self, c):
        try:
            while True:
                n = struct.unpack(">I", self._read(c, 4))[0]
                data = self._read(c, n)
                cmd, data = data[:1], data[1:]
                self.seen.append((cmd, data))
                if cmd == b"O":
                    if self.mode == "garbage":
                        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nnot a milter\n" * 3)
                        time.sleep(1)
                        return
                    c.sendall(packet(b"O", struct.pack(">III", 6, 0x1ff, self.protocol)))
                elif cmd in (b"D", b"A"):
                    continue
                elif cmd == b"Q":
                    return
                elif cmd == b"B" and self.mode == "close_mid_body":
                    return
                elif cmd == b"E":
                    if self.mode == "sleep":
                        time.sleep(self.sleep)
                        return
                    if self.mode == "hold":
                        self.released.wait(120)
                    for p in self.eom:
                        c.sendall(p)
                    c.sendall(packet(self.final[:1], self.final[1:]))
                else:
                    c.sendall(packet(b"c"))
        except (EOFError, OSError):
            pass
        finally:
            c.close()
