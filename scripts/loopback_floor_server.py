#!/usr/bin/env python3
"""The floor of an HTTP round trip on this machine's loopback, for scripts/bench_inference_server.sh: a server
that does nothing but read each request (headers and a Content-Length body) and answer `{}`, on blocking
sockets, one thread per connection, TCP_NODELAY as `veil serve` sets it. wrk against it measures what the
kernel, the loopback device and wrk itself cost, plus this minimal Python loop: an estimate of the floor from
above, which no server goes much below. Prints its port on the first line, then serves until killed.
Usage: python3 scripts/loopback_floor_server.py"""
import socket
import threading

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def serve(connection):
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    with connection:
        while True:
            chunk = connection.recv(1 << 16)
            if not chunk:
                return
            pending += chunk
            while (end := pending.find(b"\r\n\r\n")) >= 0:
                length = 0
                for line in pending[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(pending) < end + 4 + length:
                    break
                pending = pending[end + 4 + length:]
                connection.sendall(RESPONSE)


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print(listener.getsockname()[1], flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
