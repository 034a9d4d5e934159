/* The int8 product's driver and its one dispatch table: which kernels
 * exist, which this CPU runs, which one a call gets. */
#include <stdlib.h>
#include <string.h>

#include "nn/gemm_int8.h"

#if FER__INT8_HAVE_X86
static int cpu_has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#endif
static int always(void) { return 1; }

/* Indexed by fer__int8_isa, portable first; best is last available. */
static const struct {
  const fer__int8_kernel *kernel;
  int (*available)(void);
} kernels[] = {
    [FER__INT8_GENERIC] = {&fer__int8_kernel_generic, always},
#if FER__INT8_HAVE_X86
    [FER__INT8_AVX2] = {&fer__int8_kernel_avx2, cpu_has_avx2},
#else
    [FER__INT8_AVX2] = {NULL, NULL},
#endif
};
_Static_assert(sizeof kernels / sizeof kernels[0] == FER__INT8_ISA_COUNT,
               "one row per int8 kernel variant");

const fer__int8_kernel *fer__int8_kernel_of(fer__int8_isa isa) {
  if ((int)isa < 0 || isa >= FER__INT8_ISA_COUNT || !kernels[isa].kernel ||
      !kernels[isa].available())
    return NULL;
  return kernels[isa].kernel;
}

const fer__int8_kernel *fer__int8_kernel_pick(int portable) {
  const char *env = getenv("FER_INT8_KERNEL");
  if (portable || (env && strcmp(env, "generic") == 0))
    return &fer__int8_kernel_generic;
  for (int isa = FER__INT8_ISA_COUNT - 1; isa > 0; isa--) {
    const fer__int8_kernel *kn = fer__int8_kernel_of((fer__int8_isa)isa);
    if (kn) return kn;
  }
  return &fer__int8_kernel_generic;
}

void fer__gemm_int8(const fer__int8_kernel *kn, int f_pad, int panels, int k4,
                    const int8_t *w, const uint8_t *x_packed, int32_t *c,
                    long ldc) {
  const long panel_bytes = (long)k4 * 4 * FER__I8_NR;
  /* Panel outer: its bytes stay in cache while every row block reads it. */
  for (int q = 0; q < panels; q++)
    for (int r = 0; r < f_pad; r += FER__I8_MR)
      kn->tile(k4, w + (long)r * 4 * k4, x_packed + q * panel_bytes,
               c + (long)r * ldc + (long)q * FER__I8_NR, ldc);
}
