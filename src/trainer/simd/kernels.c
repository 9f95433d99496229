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
