/*
 * DEFLATE decoder (RFC 1951) with the zlib wrapper (RFC 1950).
 *
 * One resumable state machine serves both the one-shot and the streaming
 * interface. Output goes into a linear buffer whose first bytes are history:
 * for one-shot that buffer is the caller's, for streaming it is the
 * inflater's window, which keeps the last 32 KiB whenever it slides. So a
 * back-reference is valid exactly when its distance is at most the current
 * output position, in both modes.
 *
 * Huffman codes decode through a lookup table indexed by the next ROOT bits,
 * with second-level tables for the rare longer codes. While plenty of input
 * and output room remain, a fast loop refills 64 bits at a time; near the
 * ends of either buffer the same decode runs bit-exact, reading one byte at
 * a time, so it can stop anywhere and resume when given more.
 */
#include "util/inflate.h"

#include <string.h>

#include "core/core_internal.h"
#include "util/adler32.h"

/* ---- Decoding tables ---------------------------------------------------- */

/* A table entry is one uint32_t:
 *   bits 0-7   code length in bits (the whole code, root and sub part)
 *   bits 8-11  extra bits that follow (lengths, distances) or, for a link,
 *              how many bits index the second-level table
 *   bit 12     the code is a symbol the format forbids (286, 287, 30, 31)
 *              or a hole in an incomplete code
 *   bit 13     end of block
 *   bit 14     literal byte
 *   bit 15     link to a second-level table
 *   bits 16-31 literal, base length, base distance or the link's offset */
#define ENTRY_EXTRA_SHIFT 8
#define ENTRY_BAD 0x1000u
#define ENTRY_END 0x2000u
#define ENTRY_LITERAL 0x4000u
#define ENTRY_LINK 0x8000u

#define LITLEN_ROOT 10
#define DIST_ROOT 8
#define PRECODE_ROOT 7
/* Largest tables complete codes can need with these roots (1334 and 402 by
 * exhaustive count); rounded up, and the builder checks anyway. */
#define LITLEN_TABLE_SIZE 1536
#define DIST_TABLE_SIZE 512
#define PRECODE_TABLE_SIZE (1 << PRECODE_ROOT)

#define MAX_CODE_BITS 15
#define NUM_LITLEN 288
#define NUM_DIST 32
#define NUM_PRECODE 19

#define WINDOW_SIZE 32768u
/* The streaming window: 32 KiB of history plus room to decode into, so the
 * history is moved only once per 96 KiB of output. */
#define STREAM_BUFFER_SIZE (4 * WINDOW_SIZE)

enum table_kind { TABLE_LITLEN, TABLE_DIST, TABLE_PRECODE };

/* What symbol `sym` of a code means, without the code length. The length
 * and distance bases follow RFC 1951 3.2.5: after the first few, each group
 * of four (lengths) or two (distances) symbols shares an extra-bit count. */
static uint32_t symbol_meaning(enum table_kind kind, unsigned sym) {
  if (kind == TABLE_PRECODE) return (uint32_t)sym << 16;
  if (kind == TABLE_DIST) {
    if (sym >= 30) return ENTRY_BAD;
    unsigned extra = sym < 4 ? 0 : (sym - 2) / 2;
    unsigned base = sym < 4 ? sym + 1 : ((2u + (sym & 1)) << extra) + 1;
    return ((uint32_t)base << 16) | (extra << ENTRY_EXTRA_SHIFT);
  }
  if (sym < 256) return ((uint32_t)sym << 16) | ENTRY_LITERAL;
  if (sym == 256) return ENTRY_END;
  if (sym >= 286) return ENTRY_BAD;
  unsigned i = sym - 257;
  if (i == 28) return 258u << 16;
  unsigned extra = i < 8 ? 0 : (i - 4) / 4;
  unsigned base = i < 8 ? i + 3 : ((4u + (i & 3)) << extra) + 3;
  return ((uint32_t)base << 16) | (extra << ENTRY_EXTRA_SHIFT);
}

static unsigned reverse_bits(unsigned code, unsigned len) {
  unsigned r = 0;
  for (unsigned i = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>= 1;
  }
  return r;
}

typedef enum build_result {
  BUILD_OK = 0,
  BUILD_OVERSUBSCRIBED,
  BUILD_INCOMPLETE,
  BUILD_TOO_BIG
} build_result;

/* Builds the lookup table of the canonical code with lengths `lens`.
 * Incomplete codes are refused except the two RFC 1951 allows in practice
 * (and zlib accepts): no distance codes at all, or a single code of length
 * 1; their holes decode as 1-bit ENTRY_BAD entries. */
static build_result build_table(uint32_t *table, size_t table_size,
                                unsigned root, const uint8_t *lens,
                                unsigned num_symbols, enum table_kind kind) {
  unsigned count[MAX_CODE_BITS + 1] = {0};
  for (unsigned s = 0; s < num_symbols; s++) count[lens[s]]++;
  count[0] = 0;
  int left = 1;
  unsigned used = 0, max_len = 0;
  for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
    left = left * 2 - (int)count[len];
    if (left < 0) return BUILD_OVERSUBSCRIBED;
    used += count[len];
    if (count[len]) max_len = len;
  }
  if (left > 0) {
    int allowed = kind != TABLE_PRECODE && (used == 0 || (used == 1 && max_len == 1));
    if (!allowed) return BUILD_INCOMPLETE;
  }
  for (size_t i = 0; i < ((size_t)1 << root); i++) table[i] = ENTRY_BAD | 1u;

  /* Symbols sorted by (length, symbol) receive consecutive codes. */
  unsigned offset[MAX_CODE_BITS + 2];
  offset[1] = 0;
  for (unsigned len = 1; len <= MAX_CODE_BITS; len++)
    offset[len + 1] = offset[len] + count[len];
  uint16_t sorted[NUM_LITLEN];
  for (unsigned s = 0; s < num_symbols; s++)
    if (lens[s]) sorted[offset[lens[s]]++] = (uint16_t)s;
  uint16_t codes[NUM_LITLEN];
  unsigned code = 0, prev_len = 0;
  for (unsigned i = 0; i < used; i++) {
    unsigned len = lens[sorted[i]];
    code <<= len - prev_len;
    prev_len = len;
    codes[i] = (uint16_t)code++;
  }

  size_t next_free = (size_t)1 << root;
  unsigned group = ~0u, group_base = 0, group_bits = 0;
  for (unsigned i = 0; i < used; i++) {
    unsigned sym = sorted[i], len = lens[sym];
    uint32_t entry = symbol_meaning(kind, sym) | len;
    unsigned rev = reverse_bits(codes[i], len);
    if (len <= root) {
      for (unsigned j = rev; j < (1u << root); j += 1u << len) table[j] = entry;
      continue;
    }
    /* Long codes sharing their first `root` bits are consecutive in
     * canonical order; the last of them is the longest and sets the size of
     * their second-level table. */
    unsigned prefix = rev & ((1u << root) - 1);
    if (prefix != group) {
      unsigned head = codes[i] >> (len - root), last = i;
      while (last + 1 < used) {
        unsigned next_len = lens[sorted[last + 1]];
        if ((unsigned)(codes[last + 1] >> (next_len - root)) != head) break;
        last++;
      }
      group_bits = lens[sorted[last]] - root;
      if (next_free + ((size_t)1 << group_bits) > table_size) return BUILD_TOO_BIG;
      group = prefix;
      group_base = (unsigned)next_free;
      for (size_t j = 0; j < ((size_t)1 << group_bits); j++)
        table[next_free + j] = ENTRY_BAD | (root + 1);
      next_free += (size_t)1 << group_bits;
      table[prefix] = ((uint32_t)group_base << 16) | ENTRY_LINK |
                      (group_bits << ENTRY_EXTRA_SHIFT);
    }
    unsigned sub_len = len - root;
    for (unsigned j = rev >> root; j < (1u << group_bits); j += 1u << sub_len)
      table[group_base + j] = entry;
  }
  return BUILD_OK;
}

static inline uint32_t table_lookup(const uint32_t *table, unsigned root,
                                    uint64_t bits) {
  uint32_t e = table[bits & ((1u << root) - 1)];
  if (e & ENTRY_LINK) {
    unsigned sub_bits = (e >> ENTRY_EXTRA_SHIFT) & 15;
    e = table[(e >> 16) + ((bits >> root) & ((1u << sub_bits) - 1))];
  }
  return e;
}

/* ---- State -------------------------------------------------------------- */

enum inflate_state {
  ST_ZLIB_HEADER,
  ST_BLOCK_HEADER,
  ST_STORED_HEADER,
  ST_STORED_COPY,
  ST_DYNAMIC_HEADER,
  ST_PRECODE_LENGTHS,
  ST_CODE_LENGTHS,
  ST_CODES,
  ST_COPY,
  ST_TRAILER,
  ST_DONE,
  ST_FAILED
};

struct fer__inflater {
  fer__inflate_wrapper wrapper;
  enum inflate_state state;
  int final_block;
  int tables_are_fixed; /* the tables hold the fixed code: no rebuild */
  uint64_t bit_buffer;  /* next input bits, least significant first */
  unsigned bit_count;
  uint64_t total_in; /* input bytes consumed by earlier calls */
  uint32_t adler;
  fer_status failure;
  uint32_t stored_left;
  unsigned num_litlen, num_dist, num_precode, lengths_read;
  uint8_t precode_lens[NUM_PRECODE];
  uint8_t lens[NUM_LITLEN + NUM_DIST];
  unsigned copy_length, copy_distance; /* a match not yet fully written */
  uint32_t litlen_table[LITLEN_TABLE_SIZE];
  uint32_t dist_table[DIST_TABLE_SIZE];
  uint32_t precode_table[PRECODE_TABLE_SIZE];
  /* Streaming only: decoded bytes [0, window_fill), of which
   * [window_read, window_fill) are not yet delivered. */
  uint8_t *window;
  size_t window_fill, window_read;
};

static void state_reset(fer__inflater *s) {
  s->state = s->wrapper == FER__INFLATE_ZLIB ? ST_ZLIB_HEADER : ST_BLOCK_HEADER;
  s->final_block = 0;
  s->tables_are_fixed = 0;
  s->bit_buffer = 0;
  s->bit_count = 0;
  s->total_in = 0;
  s->adler = 1;
  s->failure = FER_OK;
  s->copy_length = s->copy_distance = 0;
  s->window_fill = s->window_read = 0;
}

/* ---- The decoder ---------------------------------------------------------- */

typedef enum core_result {
  CORE_DONE,
  CORE_NEED_INPUT,
  CORE_NEED_OUTPUT,
  CORE_ERROR
} core_result;

/* What peek_symbol found. */
enum symbol_kind { SYM_LITERAL, SYM_END, SYM_MATCH, SYM_BAD_LITLEN, SYM_BAD_DIST };

/* Decodes the next literal/length symbol and, for a length, its extra bits,
 * distance code and distance extra bits, from the `count` valid bits of
 * `bits`, consuming nothing. Returns the bits the whole symbol takes, or 0
 * when `count` bits are not enough to tell. */
static inline unsigned peek_symbol(const fer__inflater *s, uint64_t bits,
                                   unsigned count, enum symbol_kind *kind,
                                   unsigned *value, unsigned *distance) {
  uint32_t e = table_lookup(s->litlen_table, LITLEN_ROOT, bits);
  unsigned len = e & 0xFF;
  if (len > count) return 0;
  if (e & ENTRY_LITERAL) {
    *kind = SYM_LITERAL;
    *value = e >> 16;
    return len;
  }
  if (e & (ENTRY_END | ENTRY_BAD)) {
    *kind = (e & ENTRY_END) ? SYM_END : SYM_BAD_LITLEN;
    return len;
  }
  unsigned extra = (e >> ENTRY_EXTRA_SHIFT) & 15;
  if (len + extra > count) return 0;
  *value = (e >> 16) + (unsigned)((bits >> len) & ((1u << extra) - 1));
  unsigned used = len + extra;
  bits >>= used;
  e = table_lookup(s->dist_table, DIST_ROOT, bits);
  len = e & 0xFF;
  if (used + len > count) return 0;
  if (e & ENTRY_BAD) {
    *kind = SYM_BAD_DIST;
    return used + len;
  }
  extra = (e >> ENTRY_EXTRA_SHIFT) & 15;
  if (used + len + extra > count) return 0;
  *distance = (e >> 16) + (unsigned)((bits >> len) & ((1u << extra) - 1));
  *kind = SYM_MATCH;
  return used + len + extra;
}

static inline uint64_t load_u64le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void set_fixed_tables(fer__inflater *s) {
  uint8_t lens[NUM_LITLEN];
  memset(lens, 8, 144);
  memset(lens + 144, 9, 112);
  memset(lens + 256, 7, 24);
  memset(lens + 280, 8, 8);
  build_table(s->litlen_table, LITLEN_TABLE_SIZE, LITLEN_ROOT, lens,
              NUM_LITLEN, TABLE_LITLEN);
  memset(lens, 5, NUM_DIST);
  build_table(s->dist_table, DIST_TABLE_SIZE, DIST_ROOT, lens, NUM_DIST,
              TABLE_DIST);
  s->tables_are_fixed = 1;
}

static const char *build_problem(build_result r) {
  switch (r) {
    case BUILD_OVERSUBSCRIBED: return "over-subscribed";
    case BUILD_INCOMPLETE: return "incomplete";
    default: return "too large to tabulate";
  }
}

/* The order in which a dynamic block lists the code-length code lengths. */
static const uint8_t precode_order[NUM_PRECODE] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/* Runs the state machine over input [*in_p, in_end) and output
 * out[*out_pos, out_end), where out[0, *out_pos) is history. On return
 * every whole byte read ahead but unused has been given back to the input. */
static core_result inflate_core(fer__inflater *s, const uint8_t **in_p,
                                const uint8_t *in_end, uint8_t *out,
                                size_t *out_pos, size_t out_end) {
  const uint8_t *const in_start = *in_p;
  const uint8_t *in = in_start;
  size_t op = *out_pos, checksum_from = op;
  uint64_t bb = s->bit_buffer;
  unsigned bc = s->bit_count;
  enum inflate_state state = s->state;
  core_result result;
  fer_status fail = FER_ERR_FORMAT;
  const char *problem = NULL;
  unsigned long bad_value = 0;

/* Makes `n` bits available or suspends. Nothing is consumed before it in
 * any state, so a resumed call simply repeats the state from its start. */
#define NEED_BITS(n)                   \
  while (bc < (n)) {                   \
    if (in == in_end) goto need_input; \
    bb |= (uint64_t)*in++ << bc;       \
    bc += 8;                           \
  }
#define DROP_BITS(n) \
  do {               \
    bb >>= (n);      \
    bc -= (n);       \
  } while (0)
#define BITS(n) ((unsigned)(bb & ((1u << (n)) - 1)))
/* The fast loop reads up to 7 bytes ahead; whole bytes not yet used go back
 * to the input (only bytes of this call: earlier ones are gone). */
#define GIVE_BACK()                                          \
  do {                                                       \
    size_t back_ = bc >> 3;                                  \
    if (back_ > (size_t)(in - in_start))                     \
      back_ = (size_t)(in - in_start);                       \
    in -= back_;                                             \
    bc -= (unsigned)back_ * 8;                               \
    bb &= bc ? (~(uint64_t)0 >> (64 - bc)) : 0;              \
  } while (0)

  if (state == ST_FAILED) {
    fail = s->failure;
    problem = "used again after an error";
    goto failed;
  }
  while (state != ST_DONE) {
    switch (state) {
      case ST_ZLIB_HEADER: {
        NEED_BITS(16);
        unsigned cmf = BITS(8), flg = (unsigned)(bb >> 8) & 0xFF;
        bad_value = cmf * 256 + flg;
        if (bad_value % 31 != 0) {
          problem = "zlib header check bits are wrong";
          goto failed;
        }
        if ((cmf & 15) != 8) {
          problem = "zlib compression method is not deflate";
          goto failed;
        }
        if ((cmf >> 4) > 7) {
          problem = "zlib window is larger than 32 KiB";
          goto failed;
        }
        if (flg & 0x20) {
          fail = FER_ERR_UNSUPPORTED;
          problem = "zlib stream needs a preset dictionary";
          goto failed;
        }
        DROP_BITS(16);
        state = ST_BLOCK_HEADER;
        break;
      }
      case ST_BLOCK_HEADER: {
        NEED_BITS(3);
        s->final_block = (int)BITS(1);
        unsigned type = (unsigned)(bb >> 1) & 3;
        DROP_BITS(3);
        if (type == 0) {
          state = ST_STORED_HEADER;
        } else if (type == 1) {
          if (!s->tables_are_fixed) set_fixed_tables(s);
          state = ST_CODES;
        } else if (type == 2) {
          state = ST_DYNAMIC_HEADER;
        } else {
          problem = "invalid block type";
          bad_value = type;
          goto failed;
        }
        break;
      }
      case ST_STORED_HEADER: {
        DROP_BITS(bc & 7);
        NEED_BITS(32);
        unsigned len = BITS(16), nlen = (unsigned)(bb >> 16) & 0xFFFF;
        if (len != (~nlen & 0xFFFF)) {
          problem = "stored block length does not match its complement";
          bad_value = len;
          goto failed;
        }
        DROP_BITS(32);
        s->stored_left = len;
        state = ST_STORED_COPY;
        break;
      }
      case ST_STORED_COPY: {
        while (s->stored_left > 0 && bc >= 8) { /* bytes already read */
          if (op == out_end) goto need_output;
          out[op++] = (uint8_t)bb;
          DROP_BITS(8);
          s->stored_left--;
        }
        while (s->stored_left > 0) {
          if (op == out_end) goto need_output;
          if (in == in_end) goto need_input;
          size_t n = s->stored_left;
          n = FER__MIN(n, (size_t)(in_end - in));
          n = FER__MIN(n, out_end - op);
          memcpy(out + op, in, n);
          in += n;
          op += n;
          s->stored_left -= (uint32_t)n;
        }
        state = s->final_block ? ST_TRAILER : ST_BLOCK_HEADER;
        break;
      }
      case ST_DYNAMIC_HEADER: {
        NEED_BITS(14);
        s->num_litlen = BITS(5) + 257;
        s->num_dist = ((unsigned)(bb >> 5) & 31) + 1;
        s->num_precode = ((unsigned)(bb >> 10) & 15) + 4;
        if (s->num_litlen > 286 || s->num_dist > 30) {
          problem = "dynamic block declares too many codes";
          bad_value = s->num_litlen > 286 ? s->num_litlen : s->num_dist;
          goto failed;
        }
        DROP_BITS(14);
        s->lengths_read = 0;
        memset(s->precode_lens, 0, sizeof s->precode_lens);
        state = ST_PRECODE_LENGTHS;
        break;
      }
      case ST_PRECODE_LENGTHS: {
        while (s->lengths_read < s->num_precode) {
          NEED_BITS(3);
          s->precode_lens[precode_order[s->lengths_read++]] = (uint8_t)BITS(3);
          DROP_BITS(3);
        }
        build_result r = build_table(s->precode_table, PRECODE_TABLE_SIZE,
                                     PRECODE_ROOT, s->precode_lens,
                                     NUM_PRECODE, TABLE_PRECODE);
        if (r != BUILD_OK) {
          problem = build_problem(r);
          goto failed_code;
        }
        s->lengths_read = 0;
        state = ST_CODE_LENGTHS;
        break;
      }
      case ST_CODE_LENGTHS: {
        unsigned total = s->num_litlen + s->num_dist;
        while (s->lengths_read < total) {
          uint32_t e;
          unsigned len, sym, extra;
          for (;;) { /* the code and its extra bits, as one unit */
            e = s->precode_table[bb & (PRECODE_TABLE_SIZE - 1)];
            len = e & 0xFF;
            sym = e >> 16;
            extra = sym == 16 ? 2 : sym == 17 ? 3 : sym == 18 ? 7 : 0;
            if (len + extra <= bc) break;
            if (in == in_end) goto need_input;
            bb |= (uint64_t)*in++ << bc;
            bc += 8;
          }
          unsigned extra_value = (unsigned)(bb >> len) & ((1u << extra) - 1);
          unsigned repeat = 1, value = sym;
          if (sym == 16) {
            if (s->lengths_read == 0) {
              problem = "code length repeat with no previous length";
              goto failed;
            }
            repeat = 3 + extra_value;
            value = s->lens[s->lengths_read - 1];
          } else if (sym > 16) {
            repeat = (sym == 17 ? 3 : 11) + extra_value;
            value = 0;
          }
          if (s->lengths_read + repeat > total) {
            problem = "code lengths run past the declared count";
            bad_value = s->lengths_read + repeat;
            goto failed;
          }
          DROP_BITS(len + extra);
          memset(s->lens + s->lengths_read, (int)value, repeat);
          s->lengths_read += repeat;
        }
        if (s->lens[256] == 0) {
          problem = "dynamic block has no end-of-block code";
          goto failed;
        }
        build_result r = build_table(s->litlen_table, LITLEN_TABLE_SIZE,
                                     LITLEN_ROOT, s->lens, s->num_litlen,
                                     TABLE_LITLEN);
        if (r != BUILD_OK) {
          problem = build_problem(r);
          bad_value = 1;
          goto failed_code;
        }
        r = build_table(s->dist_table, DIST_TABLE_SIZE, DIST_ROOT,
                        s->lens + s->num_litlen, s->num_dist, TABLE_DIST);
        if (r != BUILD_OK) {
          problem = build_problem(r);
          bad_value = 2;
          goto failed_code;
        }
        s->tables_are_fixed = 0;
        state = ST_CODES;
        break;
      }
      case ST_CODES: {
        for (;;) {
          enum symbol_kind kind = SYM_END;
          unsigned value = 0, distance = 0, used;
          /* Fast: 8 readable bytes refill at least 56 bits, enough for the
           * longest symbol (15+5+15+13 bits); the output has room for the
           * longest match plus an 8-byte over-copy. */
          if (in_end - in >= 8 && out_end - op >= 258 + 8) {
            bb |= load_u64le(in) << bc;
            in += (63 - bc) >> 3;
            bc |= 56;
            used = peek_symbol(s, bb, bc, &kind, &value, &distance);
          } else {
            GIVE_BACK(); /* bytes the fast path read ahead, if any */
            for (;;) {
              used = peek_symbol(s, bb, bc, &kind, &value, &distance);
              if (used) break;
              if (in == in_end) goto need_input;
              bb |= (uint64_t)*in++ << bc;
              bc += 8;
            }
            if (kind == SYM_LITERAL && op == out_end) goto need_output;
          }
          DROP_BITS(used);
          if (kind == SYM_LITERAL) {
            out[op++] = (uint8_t)value;
            continue;
          }
          if (kind == SYM_END) {
            GIVE_BACK();
            state = s->final_block ? ST_TRAILER : ST_BLOCK_HEADER;
            break;
          }
          if (kind != SYM_MATCH) {
            problem = kind == SYM_BAD_LITLEN ? "invalid literal/length code"
                                             : "invalid distance code";
            goto failed;
          }
          if (distance > op) {
            problem = "distance reaches before the start of the output";
            bad_value = distance;
            goto failed;
          }
          if (out_end - op < value + 8) { /* finish it byte by byte */
            s->copy_length = value;
            s->copy_distance = distance;
            GIVE_BACK();
            state = ST_COPY;
            break;
          }
          uint8_t *dst = out + op;
          const uint8_t *src = dst - distance;
          if (distance >= 8) {
            uint8_t *end = dst + value;
            do {
              memcpy(dst, src, 8);
              dst += 8;
              src += 8;
            } while (dst < end);
          } else if (distance == 1) {
            memset(dst, *src, value);
          } else {
            for (unsigned i = 0; i < value; i++) dst[i] = src[i];
          }
          op += value;
        }
        break;
      }
      case ST_COPY: {
        while (s->copy_length > 0) {
          if (op == out_end) goto need_output;
          out[op] = out[op - s->copy_distance];
          op++;
          s->copy_length--;
        }
        state = ST_CODES;
        break;
      }
      case ST_TRAILER: {
        DROP_BITS(bc & 7);
        if (s->wrapper == FER__INFLATE_ZLIB) {
          NEED_BITS(32);
          uint32_t stored = (uint32_t)(bb & 0xFF) << 24 |
                            (uint32_t)((bb >> 8) & 0xFF) << 16 |
                            (uint32_t)((bb >> 16) & 0xFF) << 8 |
                            (uint32_t)((bb >> 24) & 0xFF);
          s->adler = fer__adler32(s->adler, out + checksum_from, op - checksum_from);
          checksum_from = op;
          if (stored != s->adler) {
            fail = FER_ERR_CHECKSUM;
            problem = "zlib Adler-32 does not match the data";
            bad_value = stored;
            goto failed;
          }
          DROP_BITS(32);
        }
        state = ST_DONE;
        break;
      }
      case ST_DONE:
      case ST_FAILED:
        break;
    }
  }
  result = CORE_DONE;
  goto leave;

need_input:
  result = CORE_NEED_INPUT;
  goto leave;
need_output:
  result = CORE_NEED_OUTPUT;
  goto leave;
failed_code:
  fer__fail(fail, "deflate stream: %s %s code at input byte %llu", problem,
            bad_value == 1 ? "literal/length" : bad_value == 2 ? "distance"
                                                               : "code-length",
            (unsigned long long)(s->total_in + (size_t)(in - in_start)));
  s->failure = fail;
  state = ST_FAILED;
  result = CORE_ERROR;
  goto leave;
failed:
  fer__fail(fail, "deflate stream: %s (%lu) at input byte %llu", problem,
            bad_value, (unsigned long long)(s->total_in + (size_t)(in - in_start)));
  s->failure = fail;
  state = ST_FAILED;
  result = CORE_ERROR;
leave:
  /* A suspended state keeps its partial bits (a caller feeding one byte at
   * a time must make progress); a finished stream returns what it can. */
  if (result == CORE_DONE) GIVE_BACK();
  if (s->wrapper == FER__INFLATE_ZLIB && op > checksum_from)
    s->adler = fer__adler32(s->adler, out + checksum_from, op - checksum_from);
  s->total_in += (size_t)(in - in_start);
  *in_p = in;
  *out_pos = op;
  s->bit_buffer = bb;
  s->bit_count = bc;
  s->state = state;
  return result;
#undef NEED_BITS
#undef DROP_BITS
#undef BITS
#undef GIVE_BACK
}

/* ---- Interfaces ----------------------------------------------------------- */

static fer_status core_status(const fer__inflater *s, core_result r,
                              size_t out_cap) {
  switch (r) {
    case CORE_DONE: return FER_OK;
    case CORE_ERROR: return s->failure;
    case CORE_NEED_INPUT:
      return fer__fail(FER_ERR_TRUNCATED,
                       "deflate stream: ends early, after %llu input bytes",
                       (unsigned long long)s->total_in);
    case CORE_NEED_OUTPUT:
    default:
      return fer__fail(FER_ERR_TOO_LARGE,
                       "deflate stream: inflates to more than %zu bytes (at "
                       "input byte %llu)",
                       out_cap, (unsigned long long)s->total_in);
  }
}

fer_status fer__inflate(fer__inflate_wrapper wrapper, const uint8_t *in,
                        size_t in_size, uint8_t *out, size_t out_cap,
                        size_t *out_size) {
  *out_size = 0;
  fer__inflater *s = fer__malloc(sizeof *s);
  if (!s) return fer__fail(FER_ERR_OUT_OF_MEMORY, "deflate stream: out of memory");
  s->wrapper = wrapper;
  s->window = NULL;
  state_reset(s);
  const uint8_t *p = in;
  size_t pos = 0;
  core_result r = inflate_core(s, &p, in + in_size, out, &pos, out_cap);
  fer_status st = core_status(s, r, out_cap);
  if (st == FER_OK) *out_size = pos;
  fer__free(s);
  return st;
}

fer_status fer__inflater_create(fer__inflate_wrapper wrapper,
                                fer__inflater **out) {
  *out = NULL;
  fer__inflater *s = fer__malloc(sizeof *s);
  uint8_t *window = fer__malloc(STREAM_BUFFER_SIZE);
  if (!s || !window) {
    fer__free(s);
    fer__free(window);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "inflater: out of memory");
  }
  s->wrapper = wrapper;
  s->window = window;
  state_reset(s);
  *out = s;
  return FER_OK;
}

void fer__inflater_free(fer__inflater *inf) {
  if (!inf) return;
  fer__free(inf->window);
  fer__free(inf);
}

void fer__inflater_reset(fer__inflater *inf) { state_reset(inf); }

size_t fer__inflater_leftover(fer__inflater *inf, uint8_t bytes[8]) {
  size_t n = 0;
  if (inf->state != ST_DONE) return 0;
  while (inf->bit_count >= 8) {
    bytes[n++] = (uint8_t)inf->bit_buffer;
    inf->bit_buffer >>= 8;
    inf->bit_count -= 8;
  }
  return n;
}

uint64_t fer__inflater_total_in(const fer__inflater *inf) {
  return inf->total_in;
}

fer_status fer__inflater_step(fer__inflater *s, const uint8_t *in,
                              size_t in_size, size_t *in_used, uint8_t *out,
                              size_t out_cap, size_t *out_written,
                              int *finished) {
  size_t used = 0, written = 0;
  *in_used = 0;
  *out_written = 0;
  *finished = 0;
  for (;;) {
    size_t pending = s->window_fill - s->window_read;
    size_t n = FER__MIN(pending, out_cap - written);
    if (n) {
      memcpy(out + written, s->window + s->window_read, n);
      s->window_read += n;
      written += n;
    }
    if (s->state == ST_DONE && s->window_read == s->window_fill) {
      *finished = 1;
      break;
    }
    if (written == out_cap) break;
    if (s->window_fill == STREAM_BUFFER_SIZE) {
      /* Everything is delivered: keep only the history a match can use. */
      memmove(s->window, s->window + STREAM_BUFFER_SIZE - WINDOW_SIZE,
              WINDOW_SIZE);
      s->window_fill = s->window_read = WINDOW_SIZE;
    }
    const uint8_t *p = in + used;
    core_result r = inflate_core(s, &p, in + in_size, s->window,
                                 &s->window_fill, STREAM_BUFFER_SIZE);
    used = (size_t)(p - in);
    if (r == CORE_ERROR) {
      *in_used = used;
      *out_written = written;
      return s->failure;
    }
    if (r == CORE_NEED_INPUT && s->window_read == s->window_fill) break;
  }
  *in_used = used;
  *out_written = written;
  return FER_OK;
}
