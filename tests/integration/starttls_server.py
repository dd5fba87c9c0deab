#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""STARTTLS servers for the tls_expiry integration tests, on loopback only.

  smtp        aiosmtpd (a real SMTP implementation) with STARTTLS; --delay
              holds the greeting back and sends it as a multi-line 220-/220
              reply, as postscreen or greet_pause do
  smtp-notls  aiosmtpd without TLS: EHLO does not offer STARTTLS
  imap        a minimal IMAP4rev1 greeting/CAPABILITY/STARTTLS/LOGOUT
  pop3        a minimal POP3 greeting/CAPA/STLS/QUIT

Prints READY once listening. Stops on SIGTERM/SIGKILL from the test.
"""
import argparse
import asyncio
import socket
import ssl
import sys
import threading


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def run_smtp(args):
    from aiosmtpd.handlers import Sink
    from aiosmtpd.smtp import SMTP

    delay = args.delay

    class DelayedGreetingSMTP(SMTP):
        greeted = False

        async def push(self, status):
            text = status if isinstance(status, str) else status.decode()
            if not self.greeted and text.startswith("220 "):
                self.greeted = True
                if delay > 0:
                    await asyncio.sleep(delay)
                # A multi-line greeting: the client must read to "220 ".
                await super().push("220-" + text[4:])
                await super().push("220-please wait for the last line")
                await super().push("220 ready")
                return
            await super().push(status)

    ctx = tls_context(args.cert, args.key) if args.mode == "smtp" else None

    def factory():
        return DelayedGreetingSMTP(Sink(), hostname="mx.test", tls_context=ctx,
                                   require_starttls=ctx is not None)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, host=args.host, port=args.port))
    print("READY", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


class LineConn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")


def imap_session(conn, ctx):
    c = LineConn(conn)
    c.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] test IMAP ready")
    tls = False
    while True:
        line = c.line()
        if line is None:
            return
        tag, _, cmd = line.partition(" ")
        cmd = cmd.upper()
        if cmd == "CAPABILITY":
            c.send("* CAPABILITY IMAP4rev1 " + ("AUTH=PLAIN" if tls else "STARTTLS LOGINDISABLED"))
            c.send(tag + " OK CAPABILITY completed")
        elif cmd == "STARTTLS" and not tls:
            c.send(tag + " OK Begin TLS negotiation now")
            c = LineConn(ctx.wrap_socket(c.sock, server_side=True))
            tls = True
        elif cmd == "LOGOUT":
            c.send("* BYE logging out")
            c.send(tag + " OK LOGOUT completed")
            return
        else:
            c.send(tag + " BAD unknown command")


def pop3_session(conn, ctx):
    c = LineConn(conn)
    c.send("+OK test POP3 ready")
    tls = False
    while True:
        line = c.line()
        if line is None:
            return
        cmd = line.upper()
        if cmd == "CAPA":
            c.send("+OK Capability list follows")
            for cap in (["USER", "SASL PLAIN"] if tls else ["TOP", "UIDL", "STLS"]):
                c.send(cap)
            c.send(".")
        elif cmd == "STLS" and not tls:
            c.send("+OK Begin TLS negotiation")
            c = LineConn(ctx.wrap_socket(c.sock, server_side=True))
            tls = True
        elif cmd == "QUIT":
            c.send("+OK bye")
            return
        else:
            c.send("-ERR unknown command")


def run_simple(args):
    ctx = tls_context(args.cert, args.key)
    session = imap_session if args.mode == "imap" else pop3_session
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(16)
    print("READY", flush=True)

    def serve(conn):
        try:
            conn.settimeout(30)
            session(conn, ctx)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True, choices=["smtp", "smtp-notls", "imap", "pop3"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--delay", type=float, default=0)
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")
    if args.mode.startswith("smtp"):
        run_smtp(args)
    else:
        run_simple(args)


if __name__ == "__main__":
    main()
