#!/usr/bin/env python3
"""Writes the seed corpora of the native fuzz targets (corpus/TARGET/). For bridge_request: the cases of the hostile
tests (tests/integration/bridge-limits.test.ts, bridge-protocols.test.ts and the C clients they
use) in the target's input format (see bridge_request_fuzz.cc). Global names follow the stub
host's order: compositor 1, subcompositor 2, shm 3, output 4, seat 5, xdg_wm_base 6,
viewporter 7, presentation 8, linux-dmabuf 9.

  python3 native/fuzz/make_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'bridge_request')
SEALED, UNSEALED, SHORT, PIPE, SOCKET, FILE, DIRECTORY, DMABUF = range(8)
GLOBALS = ['wl_compositor', 'wl_subcompositor', 'wl_shm', 'wl_output', 'wl_seat',
           'xdg_wm_base', 'wp_viewporter', 'wp_presentation', 'zwp_linux_dmabuf_v1']
VERSIONS = {'wl_compositor': 4, 'wl_seat': 5, 'xdg_wm_base': 2, 'zwp_linux_dmabuf_v1': 3}


def string(text):
    raw = text.encode('utf-8', 'surrogatepass') if isinstance(text, str) else text
    raw += b'\0'
    return struct.pack('<I', len(raw)) + raw + b'\0' * (-len(raw) % 4)


def msg(obj, opcode, *args):
    body = b''.join(a if isinstance(a, bytes) else struct.pack('<i' if a < 0 else '<I', a)
                    for a in args)
    return struct.pack('<IHH', obj, opcode, len(body)) + body


class Seed:
    def __init__(self):
        self.fds = []
        self.msgs = [msg(1, 1, 2)]  # wl_display.get_registry(2)
        self.next_id = 3
        self.bound = {}

    def new(self):
        self.next_id += 1
        return self.next_id - 1

    def bind(self, name):
        if name not in self.bound:
            oid = self.new()
            self.msgs.append(msg(2, 0, GLOBALS.index(name) + 1, string(name),
                                 VERSIONS.get(name, 1), oid))
            self.bound[name] = oid
        return self.bound[name]

    def add(self, obj, opcode, *args):
        self.msgs.append(msg(obj, opcode, *args))

    def pool(self, fd_kind, size):
        self.fds.append(fd_kind)
        pool = self.new()
        self.add(self.bind('wl_shm'), 0, pool, size)
        return pool

    def toplevel(self, title='demo', app_id='org.example.demo'):
        surface = self.new()
        self.add(self.bind('wl_compositor'), 0, surface)
        xs, top = self.new(), self.new()
        self.add(self.bind('xdg_wm_base'), 2, xs, surface)
        self.add(xs, 1, top)
        self.add(top, 2, string(title))
        self.add(top, 3, string(app_id))
        self.add(surface, 6)
        return surface

    def bytes(self):
        self.add(1, 0, self.new())  # wl_display.sync
        return bytes([len(self.fds)] + self.fds) + b''.join(self.msgs)


def shm_window(fd_kind=SEALED, pool_size=65536, geometry=(0, 64, 64, 256, 1), title='demo'):
    s = Seed()
    surface = s.toplevel(title)
    pool = s.pool(fd_kind, pool_size)
    buf = s.new()
    s.add(pool, 0, buf, *geometry)
    s.add(surface, 1, buf, 0, 0)
    s.add(surface, 2, 0, 0, 64, 64)
    s.add(surface, 6)
    return s


def seeds():
    yield 'shm-window', shm_window()
    yield 'unsealed-copied', shm_window(UNSEALED)
    yield 'unsealed-too-big', shm_window(UNSEALED, 1 << 20)
    yield 'short-memfd', shm_window(SHORT, 4096)
    for name, kind in [('pipe', PIPE), ('socket', SOCKET), ('file', FILE), ('dir', DIRECTORY)]:
        yield 'pool-' + name, shm_window(kind)
    yield 'out-of-pool', shm_window(geometry=(65536 - 16, 64, 64, 256, 1))
    yield 'negative-stride', shm_window(geometry=(0, 64, 64, -256, 1))
    yield 'overflow', shm_window(geometry=(0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 1))
    yield 'bad-format', shm_window(geometry=(0, 64, 64, 256, 0x12345678))
    yield 'title-invalid-utf8', shm_window(title=b'\xff\xfe\xc0\x80 ok \xed\xa0\x80')
    yield 'title-bidi', shm_window(title='exe\u202e.txt\u2066\u200f')
    yield 'title-long', shm_window(title='x' * 2000)
    s = Seed()
    pool = s.pool(UNSEALED, 4096)
    s.add(pool, 2, 65536)  # wl_shm_pool.resize of a copied pool
    s.add(pool, 2, 1 << 20)
    yield 'resize-copy', s
    s = Seed()
    region = s.new()
    s.add(s.bind('wl_compositor'), 1, region)
    for i in range(300):
        s.add(region, 1, i, i, 1, 1)
    yield 'region-flood', s
    s = Seed()
    surface = s.toplevel()
    for i in range(300):
        s.add(surface, 2, i, 0, 1, 1)
    s.add(surface, 6)
    yield 'damage-flood', s
    s = Seed()
    kb = s.new()
    s.add(s.bind('wl_seat'), 1, kb)
    ptr = s.new()
    s.add(s.bind('wl_seat'), 0, ptr)
    yield 'seat-keyboard', s

    def dmabuf(planes, width=256, height=256, fmt=0x34325258):
        s = Seed()
        params = s.new()
        s.add(s.bind('zwp_linux_dmabuf_v1'), 1, params)
        for kind, index, offset, stride in planes:
            s.fds.append(kind)
            s.add(params, 1, index, offset, stride, 0, 0)
        s.add(params, 3, s.new(), width, height, fmt, 0)
        return s
    yield 'dmabuf-ok', dmabuf([(DMABUF, 0, 0, 1024)])
    yield 'dmabuf-out-of-bounds', dmabuf([(DMABUF, 0, 4096, 1024)])
    yield 'dmabuf-plane-index', dmabuf([(DMABUF, 7, 0, 1024)])
    yield 'dmabuf-plane-set', dmabuf([(DMABUF, 0, 0, 1024), (DMABUF, 0, 0, 1024)])
    yield 'dmabuf-pipe', dmabuf([(PIPE, 0, 0, 1024)])
    yield 'dmabuf-dims', dmabuf([(DMABUF, 0, 0, 1024)], width=0, height=-1)
    yield 'dmabuf-format', dmabuf([(DMABUF, 0, 0, 1024)], fmt=0x3231564e)
    s = Seed()
    s.add(2, 0, 99, string('wl_drm'), 1, s.new())  # a global the bridge does not offer
    s.add(77, 0)  # an object that does not exist
    yield 'unknown-objects', s


def policy_seeds():
    """policy_fuzz.cc's format: check (0 shm, 1 dmabuf, 2 keymap), an fd kind, then fields."""
    def shm(kind, pool, buffers, sealed=0, grow=0):
        out = struct.pack('<BBiBi', 0, kind, pool, sealed, grow)
        return out + b''.join(struct.pack('<iiiiI', *b) for b in buffers)
    yield 'shm-ok', shm(SEALED, 65536, [(0, 64, 64, 256, 1)])
    yield 'shm-copy-grow', shm(UNSEALED, 4096, [(0, 16, 16, 64, 0)], grow=65536)
    yield 'shm-unsealed-big', shm(UNSEALED, 1 << 20, [])
    yield 'shm-short', shm(SHORT, 4096, [])
    yield 'shm-out-of-pool', shm(SEALED, 65536, [(65520, 64, 64, 256, 1)])
    yield 'shm-overflow', shm(SEALED, 65536, [(0x7fffffff,) * 4 + (1,), (0, 1, 0x7fffffff, 4, 1)])
    yield 'shm-negative', shm(SEALED, -1, [(0, 64, 64, -256, 1)])
    for name, kind in [('pipe', PIPE), ('socket', SOCKET), ('file', FILE), ('dir', DIRECTORY)]:
        yield 'shm-' + name, shm(kind, 4096, [])

    def dmabuf(planes, width=256, height=256, nv12=False):
        out = struct.pack('<BBB', 1, DMABUF, len(planes))
        for i, (kind, index, offset, stride, linear) in enumerate(planes):
            if i != 0:
                out += bytes([kind])
            out += struct.pack('<BIIB', index, offset, stride, linear)
        return out + struct.pack('<iiB', width, height, 0 if nv12 else 1)
    yield 'dmabuf-ok', dmabuf([(DMABUF, 0, 0, 1024, 1)])
    yield 'dmabuf-nv12', dmabuf([(DMABUF, 0, 0, 256, 1), (DMABUF, 1, 65536, 256, 1)], nv12=True)
    yield 'dmabuf-oob', dmabuf([(DMABUF, 0, 0xfffffff0, 0xffffffff, 1)])
    yield 'dmabuf-mismatch', dmabuf([(DMABUF, 0, 0, 1024, 1), (PIPE, 1, 0, 1024, 0)])
    yield 'keymap', struct.pack('<BBI', 2, SEALED, 4096)
    yield 'keymap-too-big', struct.pack('<BBI', 2, FILE, 1 << 30)


TEXT_SEEDS = {
    'plain': b'org.example.demo',
    'waydroid': b'waydroid.com.android.settings',
    'invalid-utf8': b'\xff\xfe\xc0\x80 ok \xed\xa0\x80 \xf4\x90\x80\x80',
    'bidi': 'exe\u202e.txt\u2066\u200f\u061c'.encode(),
    'controls': b'a\x01b\x1b[31mc\x7f\xc2\x85d',
    'long': ('\u00e9' * 200).encode(),
    'cut-at-cap': b'x' * 255 + '\u20ac'.encode(),
}


def write(target, items):
    out = os.path.join(os.path.dirname(OUT), target)
    os.makedirs(out, exist_ok=True)
    for name, data in items:
        with open(os.path.join(out, name + '.bin'), 'wb') as f:
            f.write(data)


def main():
    write('bridge_request', ((name, seed.bytes()) for name, seed in seeds()))
    write('policy', policy_seeds())
    write('text_sanitize', TEXT_SEEDS.items())


if __name__ == '__main__':
    main()
