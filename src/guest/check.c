/* check.c: the guest kernel's own consistency checks (run under --check):
 * the buddy allocator's invariants, and for every address space that its
 * VMAs are in order, disjoint, page aligned and as many as mm->nvma says,
 * in a well-formed red-black tree (vma_tree_check), and that its
 * page tables agree with its bookkeeping: each table page is a page-table page
 * of the right level, each mapped frame is an allocated page, every user leaf
 * (present or PROTNONE) lies inside a VMA whose protection allows what the
 * entry grants (a write only where VM_WRITE, an instruction fetch only where
 * VM_EXEC, a present entry only where there is some access and a PROTNONE
 * one only where there is none, as mprotect leaves them: an entry moved to
 * the wrong address, or left behind by an unmap, shows here), a PROTNONE
 * entry's frame inverted (Linux's L1TF mitigation, guest.l1tf_invert) and
 * every frame inside guest memory, copy-on-write kept (an anonymous page
 * marked exclusive has no other reference, and a writable entry of a
 * private mapping maps an exclusive anonymous page: a page shared since a
 * fork, or a file's, would be written through by one process for all),
 * and the counts
 * of table pages and mapped pages match mm->pt_pages and mm->rss; and every
 * shmem object's reference count is the number of VMAs that map it, over
 * every address space, and its list of faulted offsets lies inside it and,
 * over all objects, counts the pages the shmem cache holds. */
#include "guest/kernel.h"
#include "guest/shmem.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>

struct walkcount { struct mm *mm; uint64_t tables, leaves; int bad; char *msg; unsigned len; };

/* The leaf mapping [va, va + size) of page p with entry e: inside one VMA
 * that allows what e grants, copy-on-write kept. */
static void check_leaf(struct walkcount *w, uint64_t va, uint64_t size, pte_t e, const struct page *p)
{
    struct vma *v = find_vma(w->mm, va);
    const char *why = NULL;
    if ((p->flags & PG_anon) && p->anon_exclusive && p->count != 1)
        why = "an anonymous page marked exclusive (PageAnonExclusive) that has other references";
    else if (!v || va + size > v->end)
        why = "outside every VMA";
    else if ((e & _PAGE_RW) && !(v->flags & VM_WRITE))
        why = "writable in a VMA without VM_WRITE";
    else if (!(e & _PAGE_NX) && !(v->flags & VM_EXEC))
        why = "executable in a VMA without VM_EXEC";
    else if (pte_present(e) && !(v->flags & (VM_READ | VM_WRITE | VM_EXEC)))
        why = "present in a VMA with no access (PROT_NONE: it must be PROTNONE)";
    else if (pte_protnone(e) && (v->flags & (VM_READ | VM_WRITE | VM_EXEC)))
        why = "PROTNONE in a VMA with access";
    else if ((e & _PAGE_RW) && !(v->flags & VM_SHARED) && !((p->flags & PG_anon) && p->anon_exclusive))
        why = "writable in a private mapping over a page that is not an exclusive anonymous one";
    if (why && !w->bad)
        snprintf(w->msg, w->len, "%s at %#llx (entry %#llx) is %s", size > PAGE_SIZE ? "huge pmd" : "pte",
                 (unsigned long long)va, (unsigned long long)e, why);
    if (why)
        w->bad = 1;
}

static void count_level(struct kernel *k, uint64_t table, unsigned lvl, unsigned first,
                        unsigned last, uint64_t base, struct walkcount *w)
{
    struct page *tp = page_of(k, table);
    if (!(tp->flags & PG_pgtable) || tp->level != lvl) {
        if (!w->bad)
            snprintf(w->msg, w->len, "frame %#llx used as an L%u table is not one (flags %#x level %u)",
                     (unsigned long long)table, lvl, tp->flags, tp->level);
        w->bad = 1;
        return;
    }
    w->tables++;
    const pte_t *t = kmap_table(k, table);
    for (unsigned i = first; i <= last; i++) {
        pte_t e = t[i];
        if (lvl > 2 ? !pte_present(e) : !pte_mapped(e))
            continue;
        uint64_t va = base + ((uint64_t)i << level_shift(lvl));
        if (pte_protnone(e) && k->cfg.l1tf_invert && pte_frame(e) < k->nr_pages) {
            /* Linux inverts a PROTNONE entry's frame (L1TF): one that names
             * guest RAM as it is was written without the inversion */
            if (!w->bad)
                snprintf(w->msg, w->len, "%s at %#llx (entry %#llx) is PROTNONE with its frame not inverted",
                         lvl == 2 ? "huge pmd" : "pte", (unsigned long long)va, (unsigned long long)e);
            w->bad = 1;
            continue;
        }
        uint64_t pfn = k->pv->entry_pfn(k, e);
        if (pfn >= k->nr_pages) {
            if (!w->bad)
                snprintf(w->msg, w->len, "L%u entry at %#llx (entry %#llx) maps frame %#llx beyond guest memory",
                         lvl, (unsigned long long)va, (unsigned long long)e, (unsigned long long)pfn);
            w->bad = 1;
            continue;
        }
        if (lvl == 2 && (e & _PAGE_PSE)) {
            struct page *p = page_of(k, pfn);
            if (!(p->flags & PG_huge) || !p->count) {
                if (!w->bad)
                    snprintf(w->msg, w->len, "huge pmd maps frame %#llx which is not a live huge page",
                             (unsigned long long)pfn);
                w->bad = 1;
            }
            w->leaves += 512;
            check_leaf(w, va, HPAGE_SIZE, e, p);
        } else if (lvl == 1) {
            struct page *p = page_of(k, pfn);
            if (!(p->flags & PG_used) || (p->flags & PG_pgtable) || !p->count) {
                if (!w->bad)
                    snprintf(w->msg, w->len, "pte maps frame %#llx which is not a live data page",
                             (unsigned long long)pfn);
                w->bad = 1;
            }
            w->leaves++;
            check_leaf(w, va, PAGE_SIZE, e, p);
        } else {
            count_level(k, pfn, lvl - 1, 0, 511, va, w);
        }
    }
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(struct mm *const *)a, y = (uintptr_t)*(struct mm *const *)b;
    return x < y ? -1 : x > y;
}

struct mm_list {
    struct mm **mm;
    uint32_t n;
};

static void collect_mm(void *task, void *arg)
{
    const struct task *t = task;
    struct mm_list *l = arg;
    if (t->mm)
        l->mm[l->n++] = t->mm;
}

/* Each address space once (threads share one), its shmem VMAs counted per
 * object, against the objects' references. */
static int check_shmem(struct kernel *k, char *msg, unsigned len)
{
    if (!k->nshm)
        return 0;
    struct mm_list l = { mv_calloc(k->ntasks + 1, sizeof *l.mm), 0 };
    task_for_each(k, collect_mm, &l);
    struct mm **mms = l.mm;
    uint32_t n = l.n, *refs = mv_calloc(k->nshm + 1, sizeof *refs);
    qsort(mms, n, sizeof *mms, cmp_ptr);
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        if (i && mms[i] == mms[i - 1])
            continue;
        struct vma *v;
        for_each_vma(mms[i], v) {
            if (!(v->flags & VM_SHMEM))
                continue;
            if (!shmem_refs(k, v->file)) {
                snprintf(msg, len, "vma [%#llx, %#llx) maps shmem object %u, which %s",
                         (unsigned long long)v->start, (unsigned long long)v->end, v->file,
                         v->file && v->file <= k->nshm ? "is free" : "was never created");
                bad = 1;
                break;
            }
            refs[v->file]++;
        }
    }
    uint64_t listed = 0;
    for (uint32_t id = 1; id <= k->nshm && !bad; id++) {
        if (shmem_refs(k, id) != refs[id]) {
            snprintf(msg, len, "shmem object %u has %u references, %u VMAs map it", id,
                     shmem_refs(k, id), refs[id]);
            bad = 1;
        }
        /* its list of faulted offsets: inside the object, and (summed
         * below) exactly the pages the shmem cache holds */
        const struct shmem_obj *o = &k->shm[id];
        if (o->refs == UINT32_MAX)
            continue;
        listed += o->npg;
        for (uint64_t i = 0; i < o->npg && !bad; i++)
            if (o->pgoff[i] >= o->size) {
                snprintf(msg, len, "shmem object %u lists offset %llu, past its size %llu pages", id,
                         (unsigned long long)o->pgoff[i], (unsigned long long)o->size);
                bad = 1;
            }
    }
    if (!bad && listed != shmem_cached(k)) {
        snprintf(msg, len, "shmem objects list %llu faulted pages, the shmem cache holds %llu",
                 (unsigned long long)listed, (unsigned long long)shmem_cached(k));
        bad = 1;
    }
    free(mms);
    free(refs);
    return bad ? -1 : 0;
}

struct task_check {
    struct kernel *k;
    char *msg;
    unsigned len;
    int bad;
};

/* One task's address space against its bookkeeping (the first failure
 * stops the checks of the tasks after it). */
static void check_task(void *task, void *arg)
{
    const struct task *t = task;
    struct task_check *c = arg;
    struct mm *mm = t->mm;
    if (c->bad || !mm)
        return;
    /* the VMAs first: the walk below looks leaves up in them */
    char why[256];
    if (vma_tree_check(mm, why, sizeof why)) {
        snprintf(c->msg, c->len, "pid %u: %s", t->pid, why);
        c->bad = 1;
        return;
    }
    struct walkcount w = { .mm = mm, .msg = c->msg, .len = c->len };
    count_level(c->k, mm->pgd, 4, 0, 255, 0, &w);
    if (w.bad) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", c->msg);
        snprintf(c->msg, c->len, "pid %u: %s", t->pid, detail);
        c->bad = 1;
        return;
    }
    /* the pgd itself and any backend extras (Xen's user pgd) */
    uint64_t expect = mm->pt_pages - (mm->user_pgd ? 1 : 0);
    if (w.tables != expect || w.leaves != mm->rss) {
        snprintf(c->msg, c->len, "pid %u: tables %llu (bookkept %llu), mapped %llu (rss %llu)",
                 t->pid, (unsigned long long)w.tables, (unsigned long long)expect,
                 (unsigned long long)w.leaves, (unsigned long long)mm->rss);
        c->bad = 1;
    }
}

int kernel_check(struct kernel *k, char *msg, unsigned len)
{
    if (buddy_check(&k->buddy, msg, len))
        return -1;
    struct task_check c = { k, msg, len, 0 };
    task_for_each(k, check_task, &c);
    if (c.bad)
        return -1;
    return check_shmem(k, msg, len);
}
