#!/usr/bin/env python3
"""Writes the seed corpora of the native fuzz targets (corpus/TARGET/). For clipboard: the cases
of the clipboard tests as steps (see clipboard_fuzz.cc). For bridge_request: the cases of the hostile
tests (tests/integration/bridge-limits.test.ts, bridge-protocols.test.ts and the C clients they
use) in the target's input format (see bridge_request_fuzz.cc). For host_events: the shapes of the
host connection's unit tests (native/tests/host_connection_test.cc). Global names follow the stub
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
    def __init__(self, paced=False):
        self.paced = paced  # one message per write (see bridge_request_fuzz.cc)
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
        shm = self.bind('wl_shm')  # a new id is the next one: bound first, made next
        pool = self.new()
        self.add(shm, 0, pool, size)
        return pool

    def toplevel(self, title='demo', app_id='org.example.demo'):
        compositor = self.bind('wl_compositor')
        surface = self.new()
        self.add(compositor, 0, surface)
        wm_base = self.bind('xdg_wm_base')
        xs, top = self.new(), self.new()
        self.add(wm_base, 2, xs, surface)
        self.add(xs, 1, top)
        self.add(top, 2, string(title))
        self.add(top, 3, string(app_id))
        self.add(surface, 6)
        return surface

    def bytes(self):
        self.add(1, 0, self.new())  # wl_display.sync
        return bytes([len(self.fds) | (0x80 if self.paced else 0)] + self.fds) + b''.join(self.msgs)


def shm_window(fd_kind=SEALED, pool_size=65536, geometry=(0, 64, 64, 256, 1), title='demo',
               paced=False, frames=1):
    s = Seed(paced)
    surface = s.toplevel(title)
    pool = s.pool(fd_kind, pool_size)
    buf = s.new()
    s.add(pool, 0, buf, *geometry)
    for _ in range(frames):
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
    compositor = s.bind('wl_compositor')
    region = s.new()
    s.add(compositor, 1, region)
    for i in range(300):
        s.add(region, 1, i, i, 1, 1)
    yield 'region-flood', s
    s = Seed()
    surface = s.toplevel()
    for i in range(300):
        s.add(surface, 2, i, 0, 1, 1)
    s.add(surface, 6)
    yield 'damage-flood', s
    # Paced: the surface requests meet the wire fast path (wire_fastpath.h).
    yield 'paced-shm-window', shm_window(paced=True, frames=4)
    yield 'paced-unsealed-copied', shm_window(UNSEALED, paced=True, frames=4)
    s = Seed(paced=True)
    surface = s.toplevel()
    for i in range(80):
        s.add(surface, 9 if i % 2 else 2, i, 0, 1, 1)  # damage_buffer and damage
    s.add(surface, 6)
    yield 'paced-damage-flood', s
    s = Seed()
    seat = s.bind('wl_seat')
    kb = s.new()
    s.add(seat, 1, kb)
    ptr = s.new()
    s.add(s.bind('wl_seat'), 0, ptr)
    yield 'seat-keyboard', s

    def dmabuf(planes, width=256, height=256, fmt=0x34325258):
        s = Seed()
        dmabuf_global = s.bind('zwp_linux_dmabuf_v1')
        params = s.new()
        s.add(dmabuf_global, 1, params)
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


# clipboard_fuzz.cc's steps (an op byte, then its operands) and its modes.
(C_BIND, C_SURFACE, C_KEYBOARD, C_DEVICE, C_SOURCE, C_SOURCE_OFFER, C_SET_SELECTION, C_RECEIVE,
 C_ACCEPT, C_OFFER_REQUEST, C_SOURCE_REQUEST, C_RELEASE, C_START_DRAG, C_RAW, C_GUEST_WRITE,
 C_KEYBOARD_RELEASE, C_SYNC, H_ENTER, H_LEAVE, H_OFFER, H_SELECTION, H_FEED, H_SEND,
 H_SOURCE_EVENT, H_DND, H_DRAIN, H_ERROR) = range(27)
OFF, HOST_TO_GUEST, BOTH = range(3)
# Indices into clipboard_fuzz.cc's kMimes; KEPT_PIPE and GONE_PIPE follow the fd menu.
UTF8_TEXT, TEXT, UTF8_STRING, STRING, PNG, HTML = range(6)
KEPT_PIPE, GONE_PIPE = 8, 9


def clipboard_seeds():
    """The cases of tests/integration/bridge-clipboard.test.ts and the demo client's hostile
    clipboard build, as steps."""
    # bind compositor, seat (v3), data device manager (v3); a surface, a keyboard, a device
    prelude = [C_BIND, 0, 0, C_BIND, 1, 2, C_BIND, 2, 2, C_SURFACE, C_KEYBOARD, 0, C_DEVICE, 0]
    focus = [H_ENTER, 0, 0]
    offer = [H_OFFER, 0, 2, UTF8_TEXT, PNG, H_SELECTION, 0, 0]

    def seed(mode, *steps):
        return bytes([mode] + prelude + [b for step in steps for b in step])

    def feed(n, close=1):
        return [H_FEED, n & 0xff, n >> 8, close]

    def write(n, close=1):
        return [C_GUEST_WRITE, n & 0xff, n >> 8, close]

    copy = [C_SOURCE, C_SOURCE_OFFER, 0, TEXT, C_SOURCE_OFFER, 0, PNG, C_SET_SELECTION, 0, 0, 1]
    for mode, name in [(OFF, 'off'), (HOST_TO_GUEST, 'host-to-guest'), (BOTH, 'both')]:
        yield 'get-data-device-' + name, seed(mode, [C_SYNC])
        yield 'paste-' + name, seed(mode, focus, offer, [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE],
                                    feed(100), [C_SYNC])
        yield 'copy-' + name, seed(mode, focus, copy, [H_SEND, 0, TEXT, KEPT_PIPE], write(100),
                                   [H_DRAIN, 0, C_SYNC, H_DRAIN, 1])
    yield 'paste-over-cap', seed(HOST_TO_GUEST, focus, offer,
                                 [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE], feed(8000), [C_SYNC])
    yield 'paste-unfocused', seed(HOST_TO_GUEST, offer, [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE],
                                  feed(10), [C_SYNC])
    yield 'paste-after-leave', seed(BOTH, focus, offer, [H_LEAVE, 0, 0],
                                    [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE], feed(10), [C_SYNC])
    yield 'paste-not-offered', seed(BOTH, focus, offer, [C_RECEIVE, 0, PNG, KEPT_PIPE], [C_SYNC])
    yield 'paste-reader-gone', seed(BOTH, focus, offer, [C_RECEIVE, 0, UTF8_TEXT, GONE_PIPE],
                                    feed(5000), [C_SYNC])
    yield 'paste-never-read', seed(BOTH, focus, offer, [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE],
                                   feed(0, 0), [C_SYNC])
    for name, kind in [('memfd', SEALED), ('file', FILE), ('socket', SOCKET), ('read-end', PIPE),
                       ('dir', DIRECTORY), ('dmabuf', DMABUF)]:
        yield 'receive-' + name, seed(HOST_TO_GUEST, focus, offer,
                                      [C_RECEIVE, 0, UTF8_TEXT, kind], [C_SYNC])
    yield 'copy-over-cap', seed(BOTH, focus, copy, [H_SEND, 0, TEXT, KEPT_PIPE], write(5000),
                                [C_SYNC, H_DRAIN, 1])
    yield 'copy-not-offered', seed(BOTH, focus, copy, [H_SEND, 0, HTML, KEPT_PIPE], write(10))
    for name, kind in [('memfd', SEALED), ('socket', SOCKET), ('read-end', PIPE)]:
        yield 'copy-host-' + name, seed(BOTH, focus, copy, [H_SEND, 0, TEXT, kind], write(10))
    yield 'copy-source-gone', seed(BOTH, focus, copy, [C_SOURCE_REQUEST, 0, 0],
                                   [H_SEND, 0, TEXT, KEPT_PIPE], [H_SOURCE_EVENT, 0, 1, 0])
    yield 'copy-cancelled', seed(BOTH, focus, copy, [H_SOURCE_EVENT, 0, 1, 0],
                                 [H_SOURCE_EVENT, 0, 0, TEXT], [H_SEND, 0, TEXT, KEPT_PIPE])
    yield 'flood-selection', seed(BOTH, focus, [C_SOURCE],
                                  *[[C_SET_SELECTION, 0, 0, i] for i in range(40)], [C_SYNC])
    yield 'flood-offers', seed(BOTH, [C_SOURCE], *[[C_SOURCE_OFFER, 0, TEXT]] * 40, [C_SYNC])
    yield 'start-drag', seed(BOTH, [C_SOURCE, C_START_DRAG, 0, 0, 0, 1, C_SYNC])
    yield 'dnd-events', seed(BOTH, focus, offer, [H_DND, 0, 0, 0, 0, H_DND, 0, 2, 5, 5],
                             [H_DND, 0, 3, 0, 0, H_DND, 0, 1, 0, 0, C_SYNC])
    yield 'keyboard-release-focused', seed(BOTH, focus, offer, [C_KEYBOARD_RELEASE, 0],
                                           [H_SELECTION, 0, 0xff, C_SYNC])
    yield 'device-release', seed(BOTH, focus, offer, [C_RELEASE, 0, H_SELECTION, 0, 0, C_SYNC])
    yield 'stale-offer', seed(BOTH, focus, offer, [H_OFFER, 0, 1, TEXT, H_SELECTION, 0, 1],
                              [C_RECEIVE, 0, UTF8_TEXT, KEPT_PIPE], feed(10),
                              [C_OFFER_REQUEST, 0, 0, 0, 0, C_SYNC])
    yield 'offer-requests', seed(BOTH, focus, offer, [C_ACCEPT, 0, 1, UTF8_TEXT, C_ACCEPT, 0, 1,
                                                      0xff, C_OFFER_REQUEST, 0, 1, 0, 0,
                                                      C_OFFER_REQUEST, 0, 2, 1, 1, C_SYNC])
    raw = b'text/\x01\x7f plain'
    yield 'raw-types', seed(BOTH, focus, [H_OFFER, 0, 2, 0xf0, len(raw)] + list(raw) +
                            [UTF8_TEXT, H_SELECTION, 0, 0, C_SOURCE, C_SOURCE_OFFER, 0, 0xf0,
                             len(raw)] + list(raw) + [C_SYNC])
    yield 'raw-receive', seed(BOTH, focus, offer, [C_RAW, 2, 0, 1, 2, 4, 0, 0, 0, 0x41, 0, 0, 0,
                                                   C_SYNC])
    yield 'off-bind', seed(OFF, [C_SOURCE, C_SYNC])
    # A host offer crossing the guest's release of its data device (count byte 0x80: in flight),
    # then two offers read at once (0x40); crashes/clipboard/leak-5d695ddf… is this seed.
    yield 'offer-crosses-release', seed(HOST_TO_GUEST, [C_DEVICE, 0, H_OFFER, 1, 0],
                                        [C_OFFER_REQUEST, 0, 0, 0, 0, C_RELEASE, 0],
                                        [H_OFFER, 0, 0x80, H_OFFER, 1, 0x40, C_SYNC])
    # Offers and a host protocol error on the device in one flush (read by the bridge at once);
    # crashes/clipboard/leak-host-error-batch is this seed.
    yield 'host-error-after-offers', seed(BOTH, focus, offer, [H_ERROR, 0, 3, 7, C_SYNC])
    # A selection naming an offer whose destroy from the guest the host has not read yet, after
    # a new offer, in one flush (offer byte 0xfe: in flight);
    # crashes/clipboard/leak-selection-crosses-destroy is this seed.
    yield 'selection-crosses-destroy', seed(HOST_TO_GUEST, focus, offer,
                                            [C_OFFER_REQUEST, 0, 0, 0, 0, H_SELECTION, 0, 0xfe],
                                            [C_SYNC])


# host_events (host_events_fuzz.cc): records of host bytes, offer destroys, fds and flushes on
# the bridge's side of one host connection: data device 5, surface 7, pointer 8; host ids from
# 0xff000000.
DEVICE, SURFACE, POINTER, SERVER = 5, 7, 8, 0xff000000


def event(obj, opcode, *args):
    body = b''.join(a if isinstance(a, bytes) else struct.pack('<i' if a < 0 else '<I', a)
                    for a in args)
    return struct.pack('<II', obj, ((8 + len(body)) << 16) | opcode) + body


def host_bytes(*events):
    data = b''.join(events)
    return bytes([0]) + struct.pack('<H', len(data)) + data


def host_fds(count, data):
    return bytes([2, count, len(data)]) + data


def host_events_seeds():
    offer = lambda n: event(DEVICE, 0, SERVER + n)  # wl_data_device.data_offer
    selection = lambda n: event(DEVICE, 5, n and SERVER + n - 1)
    mime = lambda n: event(SERVER + n, 0, string('text/plain'))
    enter = lambda n: event(DEVICE, 1, 1, SURFACE, 0, 0, n and SERVER + n - 1)
    yield 'offer-selection', host_bytes(offer(0), mime(0), selection(1))
    yield 'selection-crosses-destroy', (host_bytes(offer(0)) + bytes([1, 0]) +
                                        host_bytes(offer(1), selection(1)))
    yield 'enter-crosses-destroy', (host_bytes(offer(0)) + bytes([1, 0]) +
                                    host_bytes(offer(1), enter(1)))
    yield 'error-after-offers', host_bytes(offer(0), offer(1), event(1, 0, DEVICE, 1,
                                                                      string('bad offer')))
    yield 'pointer', host_bytes(event(POINTER, 0, 1, SURFACE, 256, 256), event(POINTER, 2, 5, 0, 0),
                                event(POINTER, 5))
    yield 'fds', host_fds(1, event(1, 1, 3)) + host_fds(29, event(1, 1, 4))
    yield 'malformed-header', host_bytes(struct.pack('<II', DEVICE, 4 << 16))
    yield 'flush-then-events', bytes([3, 3, 3]) + host_bytes(event(1, 1, 3))
    split = offer(0) + selection(1)
    yield 'split-message', host_bytes(split[:5])[:3 + 5] + host_bytes(split[5:])


def write(target, items):
    out = os.path.join(os.path.dirname(OUT), target)
    os.makedirs(out, exist_ok=True)
    for name, data in items:
        with open(os.path.join(out, name + '.bin'), 'wb') as f:
            f.write(data)


def main():
    write('bridge_request', ((name, seed.bytes()) for name, seed in seeds()))
    write('clipboard', clipboard_seeds())
    write('policy', policy_seeds())
    write('text_sanitize', TEXT_SEEDS.items())
    write('host_events', host_events_seeds())


if __name__ == '__main__':
    main()
