/*
 * SIMD training kernels for greennas's wasm backend (compiled to WebAssembly with -msimd128).
 *
 * The module imports the memory of tfjs-backend-wasm, so every pointer is a tensor's offset on that
 * heap and nothing is copied. It must therefore own no memory: no static data, no stack (every
 * function is a leaf with scalar locals only; build.sh fails if the linked module has a data segment
 * or touches the stack pointer). Scratch space (per-channel sums) is passed in by the caller.
 *
 * Layouts are channels-last: x is `rows × C` for batch norm, NHWC for the depthwise gradient.
 * Sums over many rows accumulate in float32 per block of rows and in float64 across blocks.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define BLOCK 256

/* acc64[c] += Σ over rows r0..r1 of f(r, c): block partials in float32, the total in float64. */

/* Training-mode batch norm over all axes but the last, optionally followed by ReLU6.
   Outputs y, the batch mean and the biased variance. part (C floats) and s64, q64 (C doubles) are scratch. */
EXPORT(bn_train)
void bn_train(const float *restrict x, const float *restrict gamma, const float *restrict beta,
              float *restrict y, float *restrict mean, float *restrict variance,
              float *restrict part, double *restrict s64, double *restrict q64,
              int32_t rows, int32_t C, float eps, int32_t relu6) {
  for (int32_t c = 0; c < C; c++) { s64[c] = 0; q64[c] = 0; }
  for (int32_t r0 = 0; r0 < rows; r0 += BLOCK) {
    int32_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int32_t c = 0; c < C; c++) part[c] = 0;
    for (int32_t r = r0; r < r1; r++) {
      const float *xr = x + (int64_t)r * C;
      for (int32_t c = 0; c < C; c++) part[c] += xr[c];
    }
    for (int32_t c = 0; c < C; c++) s64[c] += part[c];
  }
  for (int32_t c = 0; c < C; c++) mean[c] = (float)(s64[c] / rows);
  /* Second pass on centred values: no cancellation in E[x²] − E[x]². */
  for (int32_t r0 = 0; r0 < rows; r0 += BLOCK) {
    int32_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int32_t c = 0; c < C; c++) part[c] = 0;
    for (int32_t r = r0; r < r1; r++) {
      const float *xr = x + (int64_t)r * C;
      for (int32_t c = 0; c < C; c++) { float d = xr[c] - mean[c]; part[c] += d * d; }
    }
    for (int32_t c = 0; c < C; c++) q64[c] += part[c];
  }
  /* part becomes the scale; variance holds the shift until the last loop. */
  for (int32_t c = 0; c < C; c++) {
    double v = q64[c] / rows;
    double sc = gamma[c] / __builtin_sqrt(v + eps);
    part[c] = (float)sc;
    s64[c] = beta[c] - mean[c] * sc;
    variance[c] = (float)v;
  }
  float *shift = (float *)q64; /* C floats fit in C doubles */
  for (int32_t c = 0; c < C; c++) shift[c] = (float)s64[c];
  if (relu6) {
    for (int32_t r = 0; r < rows; r++) {
      const float *xr = x + (int64_t)r * C;
      float *yr = y + (int64_t)r * C;
      for (int32_t c = 0; c < C; c++) {
        float z = xr[c] * part[c] + shift[c];
        z = z > 0.0f ? z : 0.0f;
        yr[c] = z < 6.0f ? z : 6.0f;
      }
    }
  } else {
    for (int32_t r = 0; r < rows; r++) {
      const float *xr = x + (int64_t)r * C;
      float *yr = y + (int64_t)r * C;
      for (int32_t c = 0; c < C; c++) yr[c] = xr[c] * part[c] + shift[c];
    }
  }
}

/* Gradients of bn_train: dx, dgamma, dbeta. With ReLU6 the incoming gradient is masked by 0 < z ≤ 6
   (z recomputed from x). f1..f5 are C-float scratch, d1, d2 C-double scratch. */
EXPORT(bn_train_grad)
void bn_train_grad(const float *restrict dy, const float *restrict x, const float *restrict gamma,
                   const float *restrict beta, const float *restrict mean, const float *restrict variance,
                   float *restrict dx, float *restrict dgamma, float *restrict dbeta,
                   float *restrict scale, float *restrict shift, float *restrict p1, float *restrict p2,
                   double *restrict sdy, double *restrict sdyx,
                   int32_t rows, int32_t C, float eps, int32_t relu6) {
  for (int32_t c = 0; c < C; c++) {
    double is = 1.0 / __builtin_sqrt((double)variance[c] + eps);
    scale[c] = (float)(gamma[c] * is);
    shift[c] = (float)(beta[c] - mean[c] * gamma[c] * is);
    sdy[c] = 0;
    sdyx[c] = 0;
  }
  const float *g = relu6 ? dx : dy;
  for (int32_t r0 = 0; r0 < rows; r0 += BLOCK) {
    int32_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int32_t c = 0; c < C; c++) { p1[c] = 0; p2[c] = 0; }
    if (relu6) {
      for (int32_t r = r0; r < r1; r++) {
        const float *xr = x + (int64_t)r * C;
        const float *dyr = dy + (int64_t)r * C;
        float *dxr = dx + (int64_t)r * C;
        for (int32_t c = 0; c < C; c++) {
          float z = xr[c] * scale[c] + shift[c];
          float d = dyr[c]; /* loaded unconditionally, so the select vectorises */
          float v = ((z > 0.0f) & (z <= 6.0f)) ? d : 0.0f;
          dxr[c] = v;
          p1[c] += v;
          p2[c] += v * (xr[c] - mean[c]);
        }
      }
    } else {
      for (int32_t r = r0; r < r1; r++) {
        const float *xr = x + (int64_t)r * C;
        const float *dyr = dy + (int64_t)r * C;
        for (int32_t c = 0; c < C; c++) { float v = dyr[c]; p1[c] += v; p2[c] += v * (xr[c] - mean[c]); }
      }
    }
    for (int32_t c = 0; c < C; c++) { sdy[c] += p1[c]; sdyx[c] += p2[c]; }
  }
  /* dx = γ·σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)) = a·g − k·x + b per channel. */
  for (int32_t c = 0; c < C; c++) {
    double is = 1.0 / __builtin_sqrt((double)variance[c] + eps);
    double a = gamma[c] * is;
    double k = a * sdyx[c] * is * is / rows;
    dbeta[c] = (float)sdy[c];
    dgamma[c] = (float)(sdyx[c] * is);
    scale[c] = (float)a;
    shift[c] = (float)(-a * sdy[c] / rows + k * mean[c]);
    p1[c] = (float)k;
  }
  for (int32_t r = 0; r < rows; r++) {
    const float *gr = g + (int64_t)r * C;
    const float *xr = x + (int64_t)r * C;
    float *dxr = dx + (int64_t)r * C;
    for (int32_t c = 0; c < C; c++) dxr[c] = scale[c] * gr[c] - p1[c] * xr[c] + shift[c];
  }
}

/* Filter gradient of a depthwise convolution with channel multiplier 1 (NHWC):
   out[kh, kw, c] = Σ over n, oy, ox of x[n, oy·sh + kh·dh − pt, ox·sw + kw·dw − pl, c] · dy[n, oy, ox, c].
   taps (KH·KW·C floats) is per-image scratch; out64 (KH·KW·C doubles) the running total. */
EXPORT(dw_filter_grad)
void dw_filter_grad(const float *restrict x, const float *restrict dy, float *restrict out,
                    float *restrict taps, double *restrict out64,
                    int32_t N, int32_t H, int32_t W, int32_t C, int32_t OH, int32_t OW,
                    int32_t KH, int32_t KW, int32_t sh, int32_t sw, int32_t dh, int32_t dw,
                    int32_t pt, int32_t pl) {
  const int32_t T = KH * KW * C;
  for (int32_t i = 0; i < T; i++) out64[i] = 0;
  for (int32_t n = 0; n < N; n++) {
    for (int32_t i = 0; i < T; i++) taps[i] = 0;
    for (int32_t oy = 0; oy < OH; oy++) {
      for (int32_t ox = 0; ox < OW; ox++) {
        const float *g = dy + (((int64_t)n * OH + oy) * OW + ox) * C;
        for (int32_t kh = 0; kh < KH; kh++) {
          int32_t iy = oy * sh + kh * dh - pt;
          if (iy < 0 || iy >= H) continue;
          for (int32_t kw = 0; kw < KW; kw++) {
            int32_t ix = ox * sw + kw * dw - pl;
            if (ix < 0 || ix >= W) continue;
            const float *xv = x + (((int64_t)n * H + iy) * W + ix) * C;
            float *t = taps + (kh * KW + kw) * C;
            for (int32_t c = 0; c < C; c++) t[c] += xv[c] * g[c];
          }
        }
      }
    }
    for (int32_t i = 0; i < T; i++) out64[i] += taps[i];
  }
  for (int32_t i = 0; i < T; i++) out[i] = (float)out64[i];
}

/* Filter gradient of a 1×1, stride-1 convolution: out[c, co] = Σ over positions p of x[p, c] · dy[p, co]
   (x is P × C, dy is P × CO). Four positions per pass over the C × CO block, so each accumulator
   load and store serves four products; block sums in float32 (part, C·CO floats), totals in float64
   (out64, C·CO doubles). */
EXPORT(conv1x1_filter_grad)
void conv1x1_filter_grad(const float *restrict x, const float *restrict dy, float *restrict out,
                         float *restrict part, double *restrict out64, int32_t P, int32_t C, int32_t CO) {
  const int32_t T = C * CO;
  for (int32_t i = 0; i < T; i++) out64[i] = 0;
  for (int32_t p0 = 0; p0 < P; p0 += BLOCK) {
    int32_t p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    for (int32_t i = 0; i < T; i++) part[i] = 0;
    int32_t p = p0;
    for (; p + 4 <= p1; p += 4) {
      const float *x0 = x + (int64_t)p * C;
      const float *g0 = dy + (int64_t)p * CO;
      const float *g1 = g0 + CO, *g2 = g1 + CO, *g3 = g2 + CO;
      for (int32_t c = 0; c < C; c++) {
        float a0 = x0[c], a1 = x0[C + c], a2 = x0[2 * C + c], a3 = x0[3 * C + c];
        float *acc = part + (int64_t)c * CO;
        for (int32_t o = 0; o < CO; o++) acc[o] += a0 * g0[o] + a1 * g1[o] + a2 * g2[o] + a3 * g3[o];
      }
    }
    for (; p < p1; p++) {
      const float *xr = x + (int64_t)p * C;
      const float *g = dy + (int64_t)p * CO;
      for (int32_t c = 0; c < C; c++) {
        float a = xr[c];
        float *acc = part + (int64_t)c * CO;
        for (int32_t o = 0; o < CO; o++) acc[o] += a * g[o];
      }
    }
    for (int32_t i = 0; i < T; i++) out64[i] += part[i];
  }
  for (int32_t i = 0; i < T; i++) out[i] = (float)out64[i];
}

/* Input gradient of a depthwise convolution with channel multiplier 1 (NHWC), as a scatter:
   dx[n, oy·sh + kh·dh − pt, ox·sw + kw·dw − pl, c] += dy[n, oy, ox, c] · w[kh, kw, c]. */
EXPORT(dw_input_grad)
void dw_input_grad(const float *restrict dy, const float *restrict w, float *restrict dx,
                   int32_t N, int32_t H, int32_t W, int32_t C, int32_t OH, int32_t OW,
                   int32_t KH, int32_t KW, int32_t sh, int32_t sw, int32_t dh, int32_t dw,
                   int32_t pt, int32_t pl) {
  const int64_t total = (int64_t)N * H * W * C;
  for (int64_t i = 0; i < total; i++) dx[i] = 0;
  for (int32_t n = 0; n < N; n++) {
    for (int32_t oy = 0; oy < OH; oy++) {
      for (int32_t ox = 0; ox < OW; ox++) {
        const float *g = dy + (((int64_t)n * OH + oy) * OW + ox) * C;
        for (int32_t kh = 0; kh < KH; kh++) {
          int32_t iy = oy * sh + kh * dh - pt;
          if (iy < 0 || iy >= H) continue;
          for (int32_t kw = 0; kw < KW; kw++) {
            int32_t ix = ox * sw + kw * dw - pl;
            if (ix < 0 || ix >= W) continue;
            float *d = dx + (((int64_t)n * H + iy) * W + ix) * C;
            const float *wt = w + (kh * KW + kw) * C;
            for (int32_t c = 0; c < C; c++) d[c] += g[c] * wt[c];
          }
        }
      }
    }
  }
}

/* ---- Matrix products ---------------------------------------------------------------------------
   C = alpha · op(A) · op(B) over a two-level batch, every operand addressed by element strides, so
   transposed operands and the attention heads' interleaved [batch, seq, 3, heads, dh] layout are
   read in place: op(A)[m, k] = a[m·a_rs + k·a_cs], op(B)[k, n] = b[k·b_rs + n·b_cs],
   C[m, n] = c[m·c_rs + n]. op(B) is packed, a block of KC × NC at a time, into panels of NR
   columns (zero-padded), so the 4 × 8 register tile reads it contiguously whatever its layout. */
#include <wasm_simd128.h>

#define MR 4
#define NR 8
#define KC 256
#define NC 256

/* Packs op(B)[0..kc, 0..nc] into panels p[j0 / NR][k][NR]. */
static void pack_b(const float *restrict b, float *restrict p, int32_t kc, int32_t nc, int32_t b_rs, int32_t b_cs) {
  for (int32_t j0 = 0; j0 < nc; j0 += NR) {
    int32_t w = nc - j0 < NR ? nc - j0 : NR;
    float *dst = p + j0 * kc;
    if (w == NR && b_cs == 1) {
      for (int32_t k = 0; k < kc; k++) {
        const float *src = b + k * b_rs + j0;
        wasm_v128_store(dst + k * NR, wasm_v128_load(src));
        wasm_v128_store(dst + k * NR + 4, wasm_v128_load(src + 4));
      }
    } else {
      /* Column by column: contiguous reads when B is transposed (b_rs == 1). */
      for (int32_t j = 0; j < NR; j++) {
        if (j < w) {
          const float *src = b + (j0 + j) * b_cs;
          for (int32_t k = 0; k < kc; k++) dst[k * NR + j] = src[k * b_rs];
        } else {
          for (int32_t k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
        }
      }
    }
  }
}

/* Writes (or, when acc, adds) alpha · (v0, v1) to the first w ≤ 8 floats at c. */
static inline void store_row(float *c, v128_t v0, v128_t v1, int32_t w, v128_t alpha, int32_t acc) {
  v0 = wasm_f32x4_mul(v0, alpha);
  v1 = wasm_f32x4_mul(v1, alpha);
  if (w == NR) {
    if (acc) { v0 = wasm_f32x4_add(v0, wasm_v128_load(c)); v1 = wasm_f32x4_add(v1, wasm_v128_load(c + 4)); }
    wasm_v128_store(c, v0);
    wasm_v128_store(c + 4, v1);
    return;
  }
  /* A partial panel: lane by lane (a spill buffer would need the stack). */
#define LANE(v, i, j) if (j < w) c[j] = (acc ? c[j] : 0.0f) + wasm_f32x4_extract_lane(v, i);
  LANE(v0, 0, 0) LANE(v0, 1, 1) LANE(v0, 2, 2) LANE(v0, 3, 3)
  LANE(v1, 0, 4) LANE(v1, 1, 5) LANE(v1, 2, 6) LANE(v1, 3, 7)
#undef LANE
}

/* Rows m..m+rows (rows ≤ MR) of one panel: acc over kc of op(A) column k times the panel's row k. */
static inline void tile(const float *restrict a, int32_t a_rs, int32_t a_cs, const float *restrict p, int32_t kc,
                        float *restrict c, int32_t c_rs, int32_t rows, int32_t w, v128_t alpha, int32_t acc) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (rows == MR) {
    const float *a0 = a, *a1 = a + a_rs, *a2 = a + 2 * a_rs, *a3 = a + 3 * a_rs;
    for (int32_t k = 0; k < kc; k++) {
      v128_t b0 = wasm_v128_load(p + k * NR), b1 = wasm_v128_load(p + k * NR + 4);
      int32_t o = k * a_cs;
      v128_t x0 = wasm_f32x4_splat(a0[o]), x1 = wasm_f32x4_splat(a1[o]);
      v128_t x2 = wasm_f32x4_splat(a2[o]), x3 = wasm_f32x4_splat(a3[o]);
      c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, b1));
      c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, b1));
      c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, b1));
      c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, b1));
    }
    store_row(c, c00, c01, w, alpha, acc);
    store_row(c + c_rs, c10, c11, w, alpha, acc);
    store_row(c + 2 * c_rs, c20, c21, w, alpha, acc);
    store_row(c + 3 * c_rs, c30, c31, w, alpha, acc);
    return;
  }
  for (int32_t r = 0; r < rows; r++) {
    const float *ar = a + r * a_rs;
    c00 = wasm_f32x4_splat(0.0f); c01 = c00;
    for (int32_t k = 0; k < kc; k++) {
      v128_t x = wasm_f32x4_splat(ar[k * a_cs]);
      c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, wasm_v128_load(p + k * NR)));
      c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, wasm_v128_load(p + k * NR + 4)));
    }
    store_row(c + r * c_rs, c00, c01, w, alpha, acc);
  }
}

/* The batched, strided product described above. pack holds min(K, KC) · round_up(min(N, NC), NR) floats.
   Batch (i1, i2) offsets the operands by i1·x_s1 + i2·x_s2 elements; a stride of 0 broadcasts. */
EXPORT(gemm)
void gemm(const float *a, const float *b, float *c, float *restrict pack, int32_t M, int32_t N, int32_t K,
          int32_t a_rs, int32_t a_cs, int32_t b_rs, int32_t b_cs, int32_t c_rs,
          int32_t B1, int32_t B2, int32_t a_s1, int32_t a_s2, int32_t b_s1, int32_t b_s2, int32_t c_s1, int32_t c_s2,
          float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  /* A B shared across the batch, in one block, is packed once. */
  const float *packed = 0;
  const int32_t oneBlock = K <= KC && N <= NC;
  for (int32_t i1 = 0; i1 < B1; i1++) {
    for (int32_t i2 = 0; i2 < B2; i2++) {
      const float *ab = a + i1 * a_s1 + i2 * a_s2;
      const float *bb = b + i1 * b_s1 + i2 * b_s2;
      float *cb = c + i1 * c_s1 + i2 * c_s2;
      if (K == 0) {
        for (int32_t m = 0; m < M; m++) for (int32_t n = 0; n < N; n++) cb[m * c_rs + n] = 0.0f;
        continue;
      }
      for (int32_t n0 = 0; n0 < N; n0 += NC) {
        int32_t nc = N - n0 < NC ? N - n0 : NC;
        for (int32_t k0 = 0; k0 < K; k0 += KC) {
          int32_t kc = K - k0 < KC ? K - k0 : KC;
          const float *src = bb + k0 * b_rs + n0 * b_cs;
          if (!(oneBlock && src == packed)) pack_b(src, pack, kc, nc, b_rs, b_cs);
          packed = oneBlock ? src : 0;
          const float *ak = ab + k0 * a_cs;
          for (int32_t m = 0; m < M; m += MR) {
            int32_t rows = M - m < MR ? M - m : MR;
            for (int32_t j0 = 0; j0 < nc; j0 += NR) {
              int32_t w = nc - j0 < NR ? nc - j0 : NR;
              tile(ak + m * a_rs, a_rs, a_cs, pack + j0 * kc, kc, cb + m * c_rs + n0 + j0, c_rs, rows, w, va, k0 > 0);
            }
          }
        }
      }
    }
  }
}

/* Softmax gradient over rows of n, in place on g: g ← alpha · p ⊙ (g − Σ_j g_j p_j). */
EXPORT(softmax_grad)
void softmax_grad(const float *restrict p, float *restrict g, int32_t rows, int32_t n, float alpha) {
  for (int32_t r = 0; r < rows; r++) {
    const float *pr = p + r * n;
    float *gr = g + r * n;
    v128_t s4 = wasm_f32x4_splat(0.0f);
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) s4 = wasm_f32x4_add(s4, wasm_f32x4_mul(wasm_v128_load(gr + j), wasm_v128_load(pr + j)));
    float s = wasm_f32x4_extract_lane(s4, 0) + wasm_f32x4_extract_lane(s4, 1) + wasm_f32x4_extract_lane(s4, 2) + wasm_f32x4_extract_lane(s4, 3);
    for (; j < n; j++) s += gr[j] * pr[j];
    v128_t vs = wasm_f32x4_splat(s), va = wasm_f32x4_splat(alpha);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(pr + j), wasm_f32x4_sub(wasm_v128_load(gr + j), vs)), va);
      wasm_v128_store(gr + j, v);
    }
    for (; j < n; j++) gr[j] = alpha * pr[j] * (gr[j] - s);
  }
}

/* Sums (times scale) over the middle axis of x [outer, rows, cols]: out[o, c] = scale · Σ_r x[o, r, c].
   Block partials in float32 (part, cols floats), totals in float64 (s64, cols doubles). */
EXPORT(reduce_rows)
void reduce_rows(const float *restrict x, float *restrict out, float *restrict part, double *restrict s64,
                 int32_t outer, int32_t rows, int32_t cols, float scale) {
  for (int32_t o = 0; o < outer; o++) {
    const float *xo = x + o * rows * cols;
    for (int32_t c = 0; c < cols; c++) s64[c] = 0;
    for (int32_t r0 = 0; r0 < rows; r0 += BLOCK) {
      int32_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
      for (int32_t c = 0; c < cols; c++) part[c] = 0;
      for (int32_t r = r0; r < r1; r++) {
        const float *xr = xo + r * cols;
        for (int32_t c = 0; c < cols; c++) part[c] += xr[c];
      }
      for (int32_t c = 0; c < cols; c++) s64[c] += part[c];
    }
    for (int32_t c = 0; c < cols; c++) out[o * cols + c] = (float)(s64[c] * scale);
  }
}

static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* Layer norm over the last axis (D) of rows: y = (x − mean)·rstd·γ + β, with each row's mean and rstd = 1/σ.
   Row sums in four float32 lanes (D is a layer width: tens to thousands of terms). */
EXPORT(layer_norm)
void layer_norm(const float *restrict x, const float *restrict gamma, const float *restrict beta,
                float *restrict y, float *restrict mean, float *restrict rstd, int32_t rows, int32_t D, float eps) {
  const int32_t D4 = D & ~3;
  for (int32_t r = 0; r < rows; r++) {
    const float *xr = x + r * D;
    float *yr = y + r * D;
    v128_t s4 = wasm_f32x4_splat(0.0f);
    for (int32_t j = 0; j < D4; j += 4) s4 = wasm_f32x4_add(s4, wasm_v128_load(xr + j));
    float s = hsum(s4);
    for (int32_t j = D4; j < D; j++) s += xr[j];
    float m = s / D;
    v128_t m4 = wasm_f32x4_splat(m), v4 = wasm_f32x4_splat(0.0f);
    for (int32_t j = 0; j < D4; j += 4) { v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + j), m4); v4 = wasm_f32x4_add(v4, wasm_f32x4_mul(d, d)); }
    float v = hsum(v4);
    for (int32_t j = D4; j < D; j++) { float d = xr[j] - m; v += d * d; }
    float is = (float)(1.0 / __builtin_sqrt((double)(v / D) + eps));
    mean[r] = m;
    rstd[r] = is;
    for (int32_t j = 0; j < D; j++) yr[j] = (xr[j] - m) * is * gamma[j] + beta[j];
  }
}

/* Gradients of layer_norm: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ; dγ = Σ dy·x̂, dβ = Σ dy over rows.
   Scratch: pg, pb (D floats), g64, b64 (D doubles). */
EXPORT(layer_norm_grad)
void layer_norm_grad(const float *restrict dy, const float *restrict x, const float *restrict gamma,
                     const float *restrict mean, const float *restrict rstd,
                     float *restrict dx, float *restrict dgamma, float *restrict dbeta,
                     float *restrict pg, float *restrict pb, double *restrict g64, double *restrict b64,
                     int32_t rows, int32_t D) {
  const int32_t D4 = D & ~3;
  for (int32_t j = 0; j < D; j++) { g64[j] = 0; b64[j] = 0; }
  for (int32_t r0 = 0; r0 < rows; r0 += BLOCK) {
    int32_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int32_t j = 0; j < D; j++) { pg[j] = 0; pb[j] = 0; }
    for (int32_t r = r0; r < r1; r++) {
      const float *xr = x + r * D;
      const float *dyr = dy + r * D;
      float *dxr = dx + r * D;
      float m = mean[r], is = rstd[r];
      v128_t m4 = wasm_f32x4_splat(m), is4 = wasm_f32x4_splat(is);
      v128_t sg4 = wasm_f32x4_splat(0.0f), sgx4 = sg4;
      for (int32_t j = 0; j < D4; j += 4) {
        v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + j), m4), is4);
        v128_t d = wasm_v128_load(dyr + j);
        v128_t g = wasm_f32x4_mul(d, wasm_v128_load(gamma + j));
        sg4 = wasm_f32x4_add(sg4, g);
        sgx4 = wasm_f32x4_add(sgx4, wasm_f32x4_mul(g, xh));
        wasm_v128_store(pg + j, wasm_f32x4_add(wasm_v128_load(pg + j), wasm_f32x4_mul(d, xh)));
        wasm_v128_store(pb + j, wasm_f32x4_add(wasm_v128_load(pb + j), d));
      }
      float sg = hsum(sg4), sgx = hsum(sgx4);
      for (int32_t j = D4; j < D; j++) {
        float xh = (xr[j] - m) * is;
        float d = dyr[j];
        float g = d * gamma[j];
        sg += g;
        sgx += g * xh;
        pg[j] += d * xh;
        pb[j] += d;
      }
      sg /= D;
      sgx /= D;
      for (int32_t j = 0; j < D; j++) {
        float xh = (xr[j] - m) * is;
        dxr[j] = is * (dyr[j] * gamma[j] - sg - xh * sgx);
      }
    }
    for (int32_t j = 0; j < D; j++) { g64[j] += pg[j]; b64[j] += pb[j]; }
  }
  for (int32_t j = 0; j < D; j++) { dgamma[j] = (float)g64[j]; dbeta[j] = (float)b64[j]; }
}

/* One Adam step of one variable, element-wise, in the order tfjs's AdamOptimizer applies its ops
   (each rounded to float32, no fused multiply-add), so the result is the stock one bit for bit:
   m' = m·β1 + g·(1−β1); v' = v·β2 + g²·(1−β2); w' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + w. */
EXPORT(adam_update)
void adam_update(const float *restrict w, const float *restrict m, const float *restrict v, const float *restrict g,
                 float *restrict w2, float *restrict m2, float *restrict v2, int32_t n,
                 float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float c1, float c2, float eps, float negLr) {
  for (int32_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = m[i] * beta1 + gi * oneMinusBeta1;
    float vi = v[i] * beta2 + (gi * gi) * oneMinusBeta2;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = ((mi / c1) / (__builtin_sqrtf(vi / c2) + eps)) * negLr + w[i];
  }
}

/* c[r, j] += bias[j] (when bias is not null) over rows of n, then act: 0 none, 1 ReLU, 2 ReLU6.
   The epilogue of a fused dense layer. */
EXPORT(bias_act)
void bias_act(float *restrict c, const float *restrict bias, int32_t rows, int32_t n, int32_t act) {
  for (int32_t r = 0; r < rows; r++) {
    float *cr = c + r * n;
    if (bias) for (int32_t j = 0; j < n; j++) cr[j] += bias[j];
    if (act == 1) for (int32_t j = 0; j < n; j++) { float v = cr[j]; cr[j] = v > 0.0f ? v : 0.0f; }
    if (act == 2) for (int32_t j = 0; j < n; j++) { float v = cr[j]; v = v > 0.0f ? v : 0.0f; cr[j] = v < 6.0f ? v : 6.0f; }
  }
}
