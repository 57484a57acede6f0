#!/usr/bin/env python3
"""SMTP servers for Nurture's delivery tests, started by the Swift tests themselves.

  capture  aiosmtpd; saves each message as N.eml plus N.json (envelope) in --dir.
           --log FILE instead appends one line per message received, "UNIX_TIME MESSAGE-ID", to FILE (for
           thousands of messages: no directory listing per message).
           --tls CERT KEY requires STARTTLS; --auth USER:PASS requires AUTH (PLAIN/LOGIN) over TLS.
           --rcpt ADDR=CODE,CODE,...  answers RCPT for ADDR with these codes in turn (then 250).
           --data-delay SECONDS waits this long after the final "." before answering (a slow relay).
  drop     a minimal SMTP server that closes the connection in the middle of DATA for the first
           --drops transfers, then accepts and saves like capture.

Prints "READY <port>" on stdout once listening on 127.0.0.1 (port 0 = any free port).
"""
import argparse, asyncio, json, os, ssl, sys, time
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

def save(directory, mail_from, rcpts, data, peer_port=None):
    n = len([f for f in os.listdir(directory) if f.endswith('.eml')]) + 1
    with open(os.path.join(directory, f'{n:05d}.eml'), 'wb') as f:
        f.write(data)
    with open(os.path.join(directory, f'{n:05d}.json'), 'w') as f:
        json.dump({'mail_from': mail_from, 'rcpt_tos': rcpts, 'peer_port': peer_port}, f)

class Capture:
    def __init__(self, directory, scripts, data_delay=0, log=None):
        self.directory, self.scripts, self.data_delay = directory, scripts, data_delay
        self.log = open(log, 'a', buffering=1) if log else None
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        queue = self.scripts.get(address.lower())
        if queue:
            code = queue.pop(0)
            if code != 250:
                # Like Postfix, the rejection quotes the recipient (logs must not repeat it).
                return f'{code} {"4.3.0 try again later" if code < 500 else "5.1.1 <" + address + ">: no such user here"}'
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            # Tells a test the relay holds a whole message and has not answered yet.
            with open(os.path.join(self.directory, 'holding'), 'a') as f:
                f.write(envelope.mail_from + '\n')
            await asyncio.sleep(self.data_delay)
        if self.log:
            content = envelope.original_content or envelope.content
            head = content.split(b'\r\n\r\n', 1)[0].decode('utf-8', 'replace')
            ids = [l.split(':', 1)[1].strip() for l in head.split('\r\n') if l.lower().startswith('message-id:')]
            self.log.write(f'{time.time():.6f} {ids[0] if ids else "-"}\n')
            return '250 2.0.0 Ok: queued'
        save(self.directory, envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content,
             session.peer[1] if session.peer else None)
        return '250 2.0.0 Ok: queued'

class Authenticator:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self.user and auth_data.password == self.password
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False)

class Dropper(asyncio.Protocol):
    """Speaks just enough SMTP; drops the first `drops` DATA transfers halfway through."""
    state = {'drops': 0}
    def __init__(self, directory):
        self.directory, self.buffer, self.in_data, self.data = directory, b'', False, b''
        self.mail_from, self.rcpts = '', []
    def connection_made(self, transport):
        self.transport = transport
        transport.write(b'220 drop.test ESMTP\r\n')
    def data_received(self, chunk):
        self.buffer += chunk
        while True:
            if self.in_data:
                if Dropper.state['drops'] > 0 and len(self.data) + len(self.buffer) > 200:
                    Dropper.state['drops'] -= 1
                    self.transport.close()   # mid-DATA: no final reply
                    return
                end = self.buffer.find(b'\r\n.\r\n')
                if end < 0:
                    return
                self.data += self.buffer[:end + 2]
                self.buffer = self.buffer[end + 5:]
                self.in_data = False
                body = b'\r\n'.join(l[1:] if l.startswith(b'..') else l for l in self.data.split(b'\r\n'))
                save(self.directory, self.mail_from, self.rcpts, body)
                self.data, self.rcpts = b'', []
                self.transport.write(b'250 2.0.0 Ok: queued\r\n')
                continue
            line_end = self.buffer.find(b'\r\n')
            if line_end < 0:
                return
            line, self.buffer = self.buffer[:line_end].decode(), self.buffer[line_end + 2:]
            verb = line[:4].upper()
            if verb in ('EHLO', 'HELO'):
                self.transport.write(b'250-drop.test\r\n250 8BITMIME\r\n')
            elif verb == 'MAIL':
                self.mail_from = line[line.find('<') + 1:line.find('>')]
                self.transport.write(b'250 OK\r\n')
            elif verb == 'RCPT':
                self.rcpts.append(line[line.find('<') + 1:line.find('>')])
                self.transport.write(b'250 OK\r\n')
            elif verb == 'DATA':
                self.in_data = True
                self.transport.write(b'354 go ahead\r\n')
            elif verb == 'QUIT':
                self.transport.write(b'221 bye\r\n')
                self.transport.close()
                return
            else:
                self.transport.write(b'250 OK\r\n')

async def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['capture', 'drop'])
    p.add_argument('--dir', required=True)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    p.add_argument('--implicit-tls', action='store_true', help='TLS from the first byte (smtps) instead of STARTTLS')
    p.add_argument('--auth')
    p.add_argument('--rcpt', action='append', default=[])
    p.add_argument('--drops', type=int, default=1)
    p.add_argument('--data-delay', type=float, default=0)
    p.add_argument('--log')
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    loop = asyncio.get_running_loop()
    if a.mode == 'drop':
        Dropper.state['drops'] = a.drops
        server = await loop.create_server(lambda: Dropper(a.dir), '127.0.0.1', a.port)
    else:
        scripts = {}
        for spec in a.rcpt:
            addr, codes = spec.split('=')
            scripts[addr.lower()] = [int(c) for c in codes.split(',')]
        kwargs, server_ssl = {}, None
        if a.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*a.tls)
            if a.implicit_tls:
                server_ssl = context
            else:
                kwargs.update(tls_context=context, require_starttls=True)
        if a.auth:
            user, password = a.auth.split(':', 1)
            kwargs.update(authenticator=Authenticator(user, password), auth_required=True, auth_require_tls=not a.implicit_tls)
        handler = Capture(a.dir, scripts, a.data_delay, a.log)
        server = await loop.create_server(lambda: SMTP(handler, hostname='capture.test', **kwargs), '127.0.0.1', a.port, ssl=server_ssl)
    print(f'READY {server.sockets[0].getsockname()[1]}', flush=True)
    await server.serve_forever()

if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
