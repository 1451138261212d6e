#!/usr/bin/python3
"""gen_pv_seeds.py: writes the hand-made seeds of fuzz_pv_hypercalls (the
byte format is the harness's: tests/fuzz/fuzz_pv_hypercalls.c) into
tests/fuzz/corpus/pv_hypercalls/seed-*. Each seed is a short guest story
that reaches a state worth mutating: a new table tree pinned with the
preemption window open, PiBooster's cache flag and release, devices aimed at
frames that are not the guest's, MOV CR3 of anything, ptwr stores.

It also writes, next to a corpus input that Xen's L1TF check ends by
crashing the domain, a variant with the check off (header byte h1, bit
0x04: xen.l1tf_check=false) whose every operation is replayed again; the
input itself stays, for the crash path (tests/test_pv_fuzz_corpus.c checks
that every crashing input has such a variant).

    tests/fuzz/gen_pv_seeds.py                  (rewrites the seed-* files)
    tests/fuzz/gen_pv_seeds.py --l1tf-off FILE  (writes FILE-l1tf-off)
"""
import os
import sys

# indices into the harness's frame sets (setup(): pool, tree, kernel, special)
POOL = list(range(8))
L4, L3, L2, L1, D0, D1 = range(8, 14)
KPGD, KL3, KL2, KL1 = 14, 15, 16, 17    # the kernel's tables below slot 256 (or the last one there is)
BEYOND, BEYOND77, INVALID, INVALID1, ZERO, DOMIO, XENIMG, HEAP0, HEAPN, IOROOT, IOL3, FOREIGN = range(18, 30)
GBEYOND = 18

# flag presets (pick_val): TABLE_RW, TABLE_RO, USER_RW, USER_RO, KERNEL_RW, KERNEL_RO
TABLE_RW, TABLE_RO, USER_RW, USER_RO, KERNEL_RW, KERNEL_RO = range(6)

PIN1, PIN2, PIN3, PIN4 = 0, 1, 2, 3
UNPIN, BASE, UBASE, FLUSH, INVLPG = 8, 10, 11, 14, 15


H1_L1TF_OFF = 0x04


def header(pibooster=False, preempt=0, linear=True, xen417=False, sync=True, caching=False, window=False,
           l1tf_check=True, two_units=False):
    # preempt: 0, 1, 2 entries a slice (3 would need a third byte: 1-64)
    # two_units: iommu.units=2 (the disk behind a second VT-d unit)
    h0 = int(pibooster) | (preempt << 1) | (0 if linear else 8) | (16 if xen417 else 0) | (0 if sync else 32)
    h1 = int(caching) | (2 if window else 0) | (0 if l1tf_check else H1_L1TF_OFF) | (8 if two_units else 0)
    return bytes([h0, h1])


def l1tf_off(path):
    """PATH-l1tf-off: the same input with the L1TF check off. Only the
    header's bit changes, so every operation parses as before."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if len(data) < 2 or data[1] & H1_L1TF_OFF:
        sys.exit("gen_pv_seeds.py: %s: no header, or the L1TF check is already off" % path)
    data[1] |= H1_L1TF_OFF
    with open(path + "-l1tf-off", "wb") as f:
        f.write(data)


def val(mfn, preset):
    return bytes([0x30 + preset, mfn])        # 0x30 + preset: < 0x80, >= 16


def mmu(*reqs):
    """reqs: (table mfn index, entry index < 9 of pick_idx's table, val bytes)"""
    out = bytes([0, 0, len(reqs) - 1])
    for table, idx, v in reqs:
        out += bytes([0, table, idx]) + v
    return out


def ext(*ops):
    """ops: (command index of pick_ext_cmd, mfn index)"""
    out = bytes([0, 2, len(ops) - 1])
    for cmd, mfn in ops:
        out += bytes([cmd, 8, mfn, 1])        # 8: not the "mfn 0" draw; vcpumask 1
    return out


def reissue(slot=0):
    return bytes([6, slot])


def dmap(gfn, rw):
    return bytes([15, gfn, rw])


def cr3(gfn):
    return bytes([9, gfn, 0])


def store(gfn, idx, v):
    return bytes([7, gfn, idx]) + v


def access(va_sel, acc):
    return bytes([10, va_sel, acc])


def dma(ring):
    """Program every ring with these frames (1-4), then one transfer (the
    bits that give the ring's length also pick the device and direction)."""
    return bytes([12, 1 | ((len(ring) - 1) << 1)]) + bytes(ring) + bytes([4, 7])


def ptcache(cmd, mfns):
    return bytes([0, 5, cmd, len(mfns)]) + bytes(mfns)


def tree(root, l3, l2, l1, data):
    """A new tree from pool frames, written while plain memory, then read-only."""
    s = mmu((root, 0, val(l3, TABLE_RW)), (l3, 0, val(l2, TABLE_RW)), (l2, 2, val(l1, TABLE_RW)),
            (l1, 0, val(data, USER_RW)))
    for g in (root, l3, l2, l1):
        s += dmap(g, 0)
    return s


SEEDS = {
    "window-pin": header(preempt=1, window=True) + tree(0, 1, 2, 3, 4)
    + ext((PIN4, 0)) + ext((PIN2, 0)) + ext((PIN3, 0)) + reissue(0) + ext((BASE, 0)) + reissue(0)
    + reissue(1) + ext((UNPIN, 0)) + ext((BASE, KPGD)),
    "window-baseptr": header(preempt=1, window=True) + tree(0, 1, 2, 3, 4)
    + ext((UBASE, 0)) + ext((PIN4, 0)) + ext((PIN1, 0)) + reissue(0) + reissue(1) + reissue(1)
    + cr3(0) + ext((UBASE, L4)),
    "window-parent": header(preempt=1, window=True) + tree(0, 1, 2, 3, 4)
    + ext((PIN3, 1)) + ext((PIN4, 0)) + reissue(0) + reissue(1) + ext((UNPIN, 1)) + ext((UNPIN, 0)),
    "pibooster-release": header(pibooster=True, preempt=2) + tree(0, 1, 2, 3, 4)
    + ext((PIN4, 0)) + ext((UNPIN, 0)) + dmap(1, 1) + dmap(2, 1)
    + ptcache(3, [1, 2, 3]) + ptcache(2, []) + ptcache(3, [1]) + ptcache(1, []),
    "dma-everywhere": header() + dma([BEYOND, HEAP0, IOROOT, L1]) + dma([DOMIO, XENIMG, FOREIGN, POOL[0]])
    + dma([L4, INVALID, ZERO, D0]),
    "cr3-anything": header() + b"".join(cr3(g) for g in list(range(0, 23)) + [0xff] + [0] * 8),
    "ptwr": header(linear=False) + store(L1, 3, val(D1, USER_RW)) + store(L1, 4, val(L2, USER_RW))
    + store(L1, 4, val(L2, USER_RO)) + store(L1, 5, val(BEYOND, USER_RO)) + store(L2, 0, val(D0, TABLE_RW))
    + access(0, 1) + access(8, 0) + store(L1, 4, bytes([0])),
    "linear": header() + mmu((L2, 3, val(L2, TABLE_RO)), (L2, 5, val(KL2, TABLE_RO)), (L2, 4, val(L2, TABLE_RW)))
    + access(0, 0) + mmu((KL2, 5, val(L2, TABLE_RO))) + mmu((L2, 3, bytes([0])), (L2, 5, bytes([0]))),
}


def main():
    if sys.argv[1:2] == ["--l1tf-off"]:
        for path in sys.argv[2:]:
            l1tf_off(path)
        return
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "pv_hypercalls")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
