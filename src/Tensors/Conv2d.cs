namespace NativeIg.Tensors;

/// <summary>
/// Shapes of a 2-D convolution or pooling window over NHWC input: input [N, H, W, C] → output
/// [N, OutH, OutW, ·]. Pads may be asymmetric (TF SAME puts the odd pixel at the bottom/right).
/// </summary>
public readonly record struct WindowGeometry(
    int N, int H, int W, int C,
    int KernelH, int KernelW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int PadBottom, int PadRight,
    int OutH, int OutW)
{
    /// <summary>Caffe convolution: symmetric pad, floor rounding.</summary>
    public static WindowGeometry ConvCaffe(int n, int h, int w, int c, int kernel, int stride, int pad)
    {
        Validate(n, h, w, c, kernel, kernel, stride, pad);
        int oh = (h + 2 * pad - kernel) / stride + 1;
        int ow = (w + 2 * pad - kernel) / stride + 1;
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"A {kernel}×{kernel} window with pad {pad} does not fit a {h}×{w} input.");
        return new(n, h, w, c, kernel, kernel, stride, stride, pad, pad, pad, pad, oh, ow);
    }

    /// <summary>Caffe pooling: symmetric pad, ceil rounding, and the last window must start inside the image or its top/left pad.</summary>
    public static WindowGeometry PoolCaffe(int n, int h, int w, int c, int kernel, int stride, int pad)
    {
        Validate(n, h, w, c, kernel, kernel, stride, pad);
        if (pad >= kernel) throw new ArgumentException($"Pool pad {pad} must be smaller than the kernel {kernel}.");
        int oh = CeilDiv(h + 2 * pad - kernel, stride) + 1;
        int ow = CeilDiv(w + 2 * pad - kernel, stride) + 1;
        // Caffe drops a last window that would start in the bottom/right pad (it checks only when
        // pad > 0; with stride > kernel the same can happen at pad 0, where Caffe reads an empty window).
        if ((oh - 1) * stride >= h + pad) oh--;
        if ((ow - 1) * stride >= w + pad) ow--;
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"A {kernel}×{kernel} pool window does not fit a {h}×{w} input.");
        // Windows may run past the bottom/right edge by up to stride-1 pixels: extend the virtual pad.
        int padBottom = Math.Max(pad, (oh - 1) * stride + kernel - h - pad);
        int padRight = Math.Max(pad, (ow - 1) * stride + kernel - w - pad);
        return new(n, h, w, c, kernel, kernel, stride, stride, pad, pad, padBottom, padRight, oh, ow);
    }

    /// <summary>TensorFlow SAME: out = ceil(in/stride), total pad split with the extra pixel at the bottom/right.</summary>
    public static WindowGeometry Same(int n, int h, int w, int c, int kernelH, int kernelW, int strideH, int strideW)
    {
        Validate(n, h, w, c, kernelH, kernelW, Math.Min(strideH, strideW), 0);
        int oh = CeilDiv(h, strideH), ow = CeilDiv(w, strideW);
        int padH = Math.Max((oh - 1) * strideH + kernelH - h, 0);
        int padW = Math.Max((ow - 1) * strideW + kernelW - w, 0);
        return new(n, h, w, c, kernelH, kernelW, strideH, strideW, padH / 2, padW / 2, padH - padH / 2, padW - padW / 2, oh, ow);
    }

    /// <summary>TensorFlow VALID: no pad, floor rounding.</summary>
    public static WindowGeometry Valid(int n, int h, int w, int c, int kernelH, int kernelW, int strideH, int strideW)
    {
        Validate(n, h, w, c, kernelH, kernelW, Math.Min(strideH, strideW), 0);
        if (kernelH > h || kernelW > w)
            throw new ArgumentException($"A {kernelH}×{kernelW} VALID window does not fit a {h}×{w} input.");
        return new(n, h, w, c, kernelH, kernelW, strideH, strideW, 0, 0, 0, 0, (h - kernelH) / strideH + 1, (w - kernelW) / strideW + 1);
    }

    public int[] InputShape => [N, H, W, C];
    public int OutputPixels => N * OutH * OutW;

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static void Validate(int n, int h, int w, int c, int kh, int kw, int stride, int pad)
    {
        if (n < 1 || h < 1 || w < 1 || c < 1)
            throw new ArgumentException($"Input [N={n}, H={h}, W={w}, C={c}] must have every dimension ≥ 1.");
        if (kh < 1 || kw < 1 || stride < 1 || pad < 0)
            throw new ArgumentException($"Window {kh}×{kw}, stride {stride}, pad {pad}: kernel and stride must be ≥ 1 and pad ≥ 0.");
    }

    /// <summary>Throws unless <paramref name="x"/> is the NHWC input this geometry describes.</summary>
    public void RequireInput(Tensor x, string op)
    {
        if (x.Rank != 4 || x.Dim(0) != N || x.Dim(1) != H || x.Dim(2) != W || x.Dim(3) != C)
            throw new ArgumentException($"{op}: input shape {x.ShapeString} does not match the expected {Tensor.Describe(InputShape)}.");
    }

    public void RequireOutput(Tensor y, int channels, string op)
    {
        if (y.Rank != 4 || y.Dim(0) != N || y.Dim(1) != OutH || y.Dim(2) != OutW || y.Dim(3) != channels)
            throw new ArgumentException($"{op}: shape {y.ShapeString} does not match the expected {Tensor.Describe([N, OutH, OutW, channels])}.");
    }
}

/// <summary>
/// Implicit im2col: row p of the virtual column matrix is output pixel p (n, oy, ox); column k is the
/// filter tap (kh, kw, ci), ci innermost. Values outside the input read as zero padding.
/// </summary>
public readonly unsafe struct Im2ColA(float* x, WindowGeometry g) : IPackA
{
    public void Pack(int i0, int rows, int k0, int kc, int mr, float* dest)
    {
        if (mr > 1 && g.KernelW * g.C >= 8 && Gemm.CanPackRows(mr))
        {
            PackTransposed(i0, rows, k0, kc, mr, dest);
            return;
        }
        if (mr == 1)
        {
            PackOneRow(i0, k0, kc, dest);
            return;
        }
        int c = g.C;
        int outPlane = g.OutH * g.OutW;
        for (int i = 0; i < rows; i++)
        {
            int p = i0 + i;
            int n = p / outPlane, r = p - n * outPlane;
            int oy = r / g.OutW, ox = r - oy * g.OutW;
            int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
            float* image = x + (long)n * g.H * g.W * c;
            int k = k0, kEnd = k0 + kc;
            int tap = k / c, ci = k - tap * c;
            int kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
            float* d = dest + i;
            while (k < kEnd)
            {
                int run = Math.Min(c - ci, kEnd - k);
                int iy = iy0 + kh, ix = ix0 + kw;
                if ((uint)iy < (uint)g.H && (uint)ix < (uint)g.W)
                {
                    float* src = image + ((long)iy * g.W + ix) * c + ci;
                    for (int j = 0; j < run; j++) d[j * mr] = src[j];
                }
                else
                {
                    for (int j = 0; j < run; j++) d[j * mr] = 0f;
                }
                d += run * mr;
                k += run;
                ci = 0;
                if (++kw == g.KernelW) { kw = 0; kh++; }
            }
        }
        for (int i = rows; i < mr; i++)
            for (int k = 0; k < kc; k++) dest[k * mr + i] = 0f;
    }
    [ThreadStatic] private static float[]? t_borderRows;

    /// <summary>
    /// One row of the column matrix, row-major (the materialised form the filter gradient multiplies):
    /// each kernel row's KW·C values are one contiguous copy, or zeros where the window leaves the image.
    /// </summary>
    private void PackOneRow(int p, int k0, int kc, float* dest)
    {
        int c = g.C, outPlane = g.OutH * g.OutW;
        int n = p / outPlane, r = p - n * outPlane;
        int oy = r / g.OutW, ox = r - oy * g.OutW;
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        float* image = x + (long)n * g.H * g.W * c;
        int k = k0, kEnd = k0 + kc;
        while (k < kEnd)
        {
            int tap = k / c, ci = k - tap * c;
            int kh = tap / g.KernelW, kw = tap - kh * g.KernelW;
            int iy = iy0 + kh, ix = ix0 + kw;
            // The run of this tap's channels, extended over the next taps of the kernel row while they stay inside the image.
            int run = Math.Min(c - ci, kEnd - k);
            var to = new Span<float>(dest + (k - k0), run);
            if ((uint)iy < (uint)g.H && (uint)ix < (uint)g.W)
            {
                int more = Math.Min(g.KernelW - 1 - kw, g.W - 1 - ix);
                if (more > 0) { run = Math.Min(run + more * c, kEnd - k); to = new Span<float>(dest + (k - k0), run); }
                new ReadOnlySpan<float>(image + ((long)iy * g.W + ix) * c + ci, run).CopyTo(to);
            }
            else to.Clear();
            k += run;
        }
    }

    /// <summary>
    /// The mr-row panel one kernel row at a time: in NHWC the KW·C values of kernel row kh under an
    /// output pixel are contiguous in x (for conv1, 7 taps × 3 channels = 21 floats), so each of the
    /// mr rows is a pointer into x — or, where the window hangs over the border, into a copy with
    /// zeros — and <see cref="Gemm.PackRows"/> transposes them into the panel.
    /// </summary>
    private void PackTransposed(int i0, int rows, int k0, int kc, int mr, float* dest)
    {
        int c = g.C, outPlane = g.OutH * g.OutW, rowLength = g.KernelW * c;
        var border = t_borderRows;
        if (border is null || border.Length < mr * rowLength) t_borderRows = border = GC.AllocateUninitializedArray<float>(mr * rowLength, pinned: true);
        float** images = stackalloc float*[mr];
        int* iy0 = stackalloc int[mr];
        int* ix0 = stackalloc int[mr];
        float** sources = stackalloc float*[mr];
        float* zeros = Gemm.ZeroRow(rowLength);
        for (int i = 0; i < mr; i++)
        {
            int p = i0 + Math.Min(i, rows - 1);
            int n = p / outPlane, r = p - n * outPlane;
            int oy = r / g.OutW, ox = r - oy * g.OutW;
            images[i] = x + (long)n * g.H * g.W * c;
            iy0[i] = i < rows ? oy * g.StrideH - g.PadTop : int.MinValue / 2; // rows past the end read zeros
            ix0[i] = ox * g.StrideW - g.PadLeft;
        }
        fixed (float* borderBase = border)
        {
            int k = k0, kEnd = k0 + kc;
            float* d = dest;
            while (k < kEnd)
            {
                int kh = k / rowLength, offset = k - kh * rowLength;
                int run = Math.Min(rowLength - offset, kEnd - k);
                for (int i = 0; i < mr; i++)
                {
                    int iy = iy0[i] + kh, ix = ix0[i];
                    if ((uint)iy >= (uint)g.H) { sources[i] = zeros; continue; }
                    float* line = images[i] + (long)iy * g.W * c;
                    if (ix >= 0 && ix + g.KernelW <= g.W) { sources[i] = line + ix * c + offset; continue; }
                    float* copy = borderBase + i * rowLength;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        var to = new Span<float>(copy + kw * c, c);
                        if ((uint)(ix + kw) < (uint)g.W) new ReadOnlySpan<float>(line + (ix + kw) * c, c).CopyTo(to);
                        else to.Clear();
                    }
                    sources[i] = copy + offset;
                }
                Gemm.PackRows(sources, mr, run, d);
                d += run * mr;
                k += run;
            }
        }
    }
}

/// <summary>
/// Convolution over NHWC input with HWIO filters [KH, KW, CI, CO] and bias [CO]: forward (with fused
/// ReLU), backward-data (dX) and backward-filter (dW, db). All three are GEMMs:
/// Y[P, CO] = col(X)[P, K]·W[K, CO]; dX from dY·Wᵀ; dW = col(X)ᵀ·dY; with P output pixels, K = KH·KW·CI.
/// </summary>
public static unsafe class Conv2d
{
    /// <summary>Column-matrix rows per chunk where one is materialised (stride &gt; 1 backward, dW).</summary>
    private const int ChunkFloats = 1 << 21;

    /// <summary>y[N, OH, OW, CO] = x[N, H, W, CI] ⊛ w[KH, KW, CI, CO] + bias[CO], then ReLU if asked.</summary>
    public static void Forward(WindowGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, bool relu, GemmKernel? kernel = null, PackedB? packedFilter = null)
    {
        int co = CheckFilter(g, w, bias, "Conv2d.Forward");
        g.RequireInput(x, "Conv2d.Forward");
        g.RequireOutput(y, co, "Conv2d.Forward");
        int p = g.OutputPixels, k = g.KernelH * g.KernelW * g.C;
        // Bias and ReLU ride on the GEMM's final store: the output is written exactly once.
        fixed (float* px = x.Span)
        fixed (float* pw = w.Span)
        fixed (float* py = y.Span)
        fixed (float* pb = bias is null ? default : bias.Span)
        {
            var packB = new DenseB(pw, co, transposed: false);
            bool pointwise = IsPointwise(g);
            if (packedFilter is not null && pointwise)
                Gemm.Multiply(p, co, k, new DenseA(px, g.C, false), packedFilter, py, co, false, pb, relu);
            else if (packedFilter is not null)
                Gemm.Multiply(p, co, k, new Im2ColA(px, g), packedFilter, py, co, false, pb, relu);
            else if (pointwise)
                Gemm.Multiply(p, co, k, new DenseA(px, g.C, false), packB, py, co, false, kernel ?? Gemm.Best, pb, relu);
            else
                Gemm.Multiply(p, co, k, new Im2ColA(px, g), packB, py, co, false, kernel ?? Gemm.Best, pb, relu);
        }
    }

    /// <summary>dx[N, H, W, CI] = ∂L/∂x given dy[N, OH, OW, CO] (already masked by the ReLU if one was fused).</summary>
    public static void BackwardData(WindowGeometry g, Tensor dy, Tensor w, Tensor dx, bool accumulate = false, GemmKernel? kernel = null, PackedB? packedFilter = null)
    {
        int co = CheckFilter(g, w, null, "Conv2d.BackwardData");
        g.RequireOutput(dy, co, "Conv2d.BackwardData (dy)");
        g.RequireInput(dx, "Conv2d.BackwardData (dx)");
        var gk = kernel ?? Gemm.Best;
        int ci = g.C, k = g.KernelH * g.KernelW * ci;
        fixed (float* pdy = dy.Span)
        fixed (float* pw = w.Span)
        fixed (float* pdx = dx.Span)
        {
            if (IsPointwise(g))
            {
                // dX[P, CI] = dY[P, CO]·Wᵀ, W stored [CI, CO].
                var a = new DenseA(pdy, co, false);
                if (packedFilter is not null) Gemm.Multiply(g.N * g.H * g.W, ci, co, a, packedFilter, pdx, ci, accumulate);
                else Gemm.Multiply(g.N * g.H * g.W, ci, co, a, new DenseB(pw, co, true), pdx, ci, accumulate, gk);
                return;
            }
            if (g.StrideH == 1 && g.StrideW == 1)
            {
                // Stride 1: dX is the convolution of dY with the spatially flipped, in/out-swapped filter.
                var gt = new WindowGeometry(g.N, g.OutH, g.OutW, co, g.KernelH, g.KernelW, 1, 1,
                    g.KernelH - 1 - g.PadTop, g.KernelW - 1 - g.PadLeft, g.KernelH - 1 - g.PadBottom, g.KernelW - 1 - g.PadRight, g.H, g.W);
                int kFlipped = g.KernelH * g.KernelW * co;
                if (packedFilter is not null)
                {
                    Gemm.Multiply(g.N * g.H * g.W, ci, kFlipped, new Im2ColA(pdy, gt), packedFilter, pdx, ci, accumulate);
                    return;
                }
                using var flipped = FlipFilter(w, g.KernelH, g.KernelW, ci, co);
                fixed (float* pf = flipped.Span)
                    Gemm.Multiply(g.N * g.H * g.W, ci, kFlipped, new Im2ColA(pdy, gt), new DenseB(pf, ci, false), pdx, ci, accumulate, gk);
                return;
            }
            // Strided: dCol = dY·Wᵀ in chunks of whole images, then scatter-add (col2im).
            if (!accumulate) dx.Span.Clear();
            int plane = g.OutH * g.OutW;
            int imagesPerChunk = Math.Max(1, ChunkFloats / Math.Max(1, plane * k));
            var col = BufferPool.Shared.Rent(imagesPerChunk * plane * k);
            try
            {
                fixed (float* pcol = &col.Buffer[col.Offset])
                {
                    for (int n0 = 0; n0 < g.N; n0 += imagesPerChunk)
                    {
                        int count = Math.Min(imagesPerChunk, g.N - n0);
                        var a = new DenseA(pdy + (long)n0 * plane * co, co, false);
                        if (packedFilter is not null) Gemm.Multiply(count * plane, k, co, a, packedFilter, pcol, k, false);
                        else Gemm.Multiply(count * plane, k, co, a, new DenseB(pw, co, true), pcol, k, false, gk);
                        float* colBase = pcol;
                        float* dxBase = pdx;
                        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Gemm.Threads }, i =>
                            Col2Image(g, colBase + (long)i * plane * k, dxBase + (long)(n0 + i) * g.H * g.W * ci));
                    }
                }
            }
            finally { BufferPool.Shared.Return(col.Buffer); }
        }
    }

    /// <summary>dw[KH, KW, CI, CO] and db[CO] from x and dy; added to what they hold when <paramref name="accumulate"/>.</summary>
    public static void BackwardFilter(WindowGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor? db, bool accumulate = false, GemmKernel? kernel = null)
    {
        int co = CheckFilter(g, dw, db, "Conv2d.BackwardFilter");
        g.RequireInput(x, "Conv2d.BackwardFilter (x)");
        g.RequireOutput(dy, co, "Conv2d.BackwardFilter (dy)");
        var gk = kernel ?? Gemm.Best;
        int k = g.KernelH * g.KernelW * g.C;
        int plane = g.OutH * g.OutW;
        if (db is not null)
        {
            var dbs = db.Span;
            if (!accumulate) dbs.Clear();
            var dys = dy.Span;
            for (int row = 0; row < g.OutputPixels; row++)
                System.Numerics.Tensors.TensorPrimitives.Add(dbs, dys.Slice(row * co, co), dbs);
        }
        fixed (float* px = x.Span)
        fixed (float* pdy = dy.Span)
        fixed (float* pdw = dw.Span)
        {
            if (IsPointwise(g))
            {
                Gemm.Multiply(k, co, g.OutputPixels, new DenseA(px, g.C, true), new DenseB(pdy, co, false), pdw, co, accumulate, gk);
                return;
            }
            int rowsPerChunk = Math.Max(plane, ChunkFloats / k / plane * plane);
            var col = BufferPool.Shared.Rent(rowsPerChunk * k);
            try
            {
                fixed (float* pcol = &col.Buffer[col.Offset])
                {
                    var im2col = new Im2ColA(px, g);
                    for (int r0 = 0, chunk = 0; r0 < g.OutputPixels; r0 += rowsPerChunk, chunk++)
                    {
                        int rows = Math.Min(rowsPerChunk, g.OutputPixels - r0);
                        MaterialiseColumns(im2col, r0, rows, k, pcol);
                        Gemm.Multiply(k, co, rows, new DenseA(pcol, k, true), new DenseB(pdy + (long)r0 * co, co, false), pdw, co, accumulate || chunk > 0, gk);
                    }
                }
            }
            finally { BufferPool.Shared.Return(col.Buffer); }
        }
    }

    /// <summary>The filter packed as the forward GEMM's B operand ([KH·KW·CI, CO]).</summary>
    public static PackedB PackForward(Tensor w, GemmKernel? kernel = null)
    {
        int k = w.Dim(0) * w.Dim(1) * w.Dim(2), co = w.Dim(3);
        fixed (float* pw = w.Span) return PackedB.Pack(k, co, new DenseB(pw, co, false), kernel ?? Gemm.Best);
    }

    /// <summary>The filter packed as the backward-data GEMM's B operand for this geometry's route (Wᵀ, or the flipped filter for stride 1).</summary>
    public static PackedB PackBackwardData(WindowGeometry g, Tensor w, GemmKernel? kernel = null)
    {
        int ci = g.C, co = w.Dim(3), k = g.KernelH * g.KernelW * ci;
        var gk = kernel ?? Gemm.Best;
        if (!IsPointwise(g) && g.StrideH == 1 && g.StrideW == 1)
        {
            using var flipped = FlipFilter(w, g.KernelH, g.KernelW, ci, co);
            fixed (float* pf = flipped.Span) return PackedB.Pack(g.KernelH * g.KernelW * co, ci, new DenseB(pf, ci, false), gk);
        }
        // Wᵀ: [CO, CI] for a pointwise layer, [CO, K] (the column matrix's width) when strided.
        fixed (float* pw = w.Span) return PackedB.Pack(co, IsPointwise(g) ? ci : k, new DenseB(pw, co, true), gk);
    }

    /// <summary>Which backward-data route a geometry takes; packed filters are only valid for the same route.</summary>
    public static string BackwardDataRoute(WindowGeometry g) =>
        IsPointwise(g) ? "pointwise" : g.StrideH == 1 && g.StrideW == 1 ? $"flipped:{g.PadTop},{g.PadLeft}" : "col2im";

    private static bool IsPointwise(WindowGeometry g) =>
        g.KernelH == 1 && g.KernelW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.OutH == g.H && g.OutW == g.W;

    private static int CheckFilter(WindowGeometry g, Tensor w, Tensor? bias, string op)
    {
        if (w.Rank != 4 || w.Dim(0) != g.KernelH || w.Dim(1) != g.KernelW || w.Dim(2) != g.C)
            throw new ArgumentException($"{op}: filter shape {w.ShapeString} does not match the expected [{g.KernelH}, {g.KernelW}, {g.C}, CO] (HWIO).");
        int co = w.Dim(3);
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != co))
            throw new ArgumentException($"{op}: bias shape {bias.ShapeString} does not match the expected [{co}].");
        return co;
    }

    /// <summary>f[kh', kw', co, ci] = w[KH−1−kh', KW−1−kw', ci, co].</summary>
    private static Tensor FlipFilter(Tensor w, int kh, int kw, int ci, int co)
    {
        var f = Tensor.Uninitialized(kh, kw, co, ci);
        var src = w.Span;
        var dst = f.Span;
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
            {
                int srcTap = ((kh - 1 - y) * kw + (kw - 1 - x)) * ci * co;
                int dstTap = (y * kw + x) * co * ci;
                for (int i = 0; i < ci; i++)
                    for (int o = 0; o < co; o++)
                        dst[dstTap + o * ci + i] = src[srcTap + i * co + o];
            }
        return f;
    }

    private static void MaterialiseColumns(Im2ColA im2col, int r0, int rows, int k, float* dest)
    {
        // Pack with mr = 1 writes row-major [rows, k] directly.
        for (int r = 0; r < rows; r++) im2col.Pack(r0 + r, 1, 0, k, 1, dest + (long)r * k);
    }

    /// <summary>
    /// Adds one image's column matrix [OH·OW, KH·KW·C] back into its NHWC input gradient. A kernel row's
    /// KW·C values land on contiguous input pixels, so away from the border each is one vector add.
    /// </summary>
    private static void Col2Image(WindowGeometry g, float* col, float* dx)
    {
        int c = g.C, rowLength = g.KernelW * c;
        int k = g.KernelH * rowLength;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                float* row = col + (long)(oy * g.OutW + ox) * k;
                int ix0 = ox * g.StrideW - g.PadLeft;
                bool inside = ix0 >= 0 && ix0 + g.KernelW <= g.W;
                for (int kh = 0; kh < g.KernelH; kh++)
                {
                    int iy = oy * g.StrideH - g.PadTop + kh;
                    if ((uint)iy >= (uint)g.H) continue;
                    float* src = row + kh * rowLength;
                    float* line = dx + (long)iy * g.W * c;
                    if (inside)
                    {
                        var dst = new Span<float>(line + ix0 * c, rowLength);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, new ReadOnlySpan<float>(src, rowLength), dst);
                        continue;
                    }
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        int ix = ix0 + kw;
                        if ((uint)ix >= (uint)g.W) continue;
                        for (int ch = 0; ch < c; ch++) line[ix * c + ch] += src[kw * c + ch];
                    }
                }
            }
    }
}

/// <summary>
/// Direct-loop convolution the GEMM paths are tested against: each output element is its defining
/// sum, accumulated in double. Rows run in parallel only so that full GoogLeNet shapes fit in a test run.
/// </summary>
public static class Conv2dReference
{
    public static void Forward(WindowGeometry g, float[] x, float[] w, float[]? bias, float[] y, int co, bool relu)
    {
        Parallel.For(0, g.N * g.OutH, row =>
        {
            int n = row / g.OutH, oy = row % g.OutH;
            for (int ox = 0; ox < g.OutW; ox++)
                for (int o = 0; o < co; o++)
                {
                    double sum = bias is null ? 0 : bias[o];
                    for (int kh = 0; kh < g.KernelH; kh++)
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                            for (int c = 0; c < g.C; c++)
                                sum += (double)x[((n * g.H + iy) * g.W + ix) * g.C + c] * w[((kh * g.KernelW + kw) * g.C + c) * co + o];
                        }
                    if (relu && sum < 0) sum = 0;
                    y[((n * g.OutH + oy) * g.OutW + ox) * co + o] = (float)sum;
                }
        });
    }

    /// <summary>dx[n, iy, ix, c] = Σ over (kh, kw, o) with oy·s − pad + kh = iy (and likewise for x) of dy·w.</summary>
    public static void BackwardData(WindowGeometry g, float[] dy, float[] w, float[] dx, int co)
    {
        Parallel.For(0, g.N * g.H, row =>
        {
            int n = row / g.H, iy = row % g.H;
            for (int ix = 0; ix < g.W; ix++)
                for (int c = 0; c < g.C; c++)
                {
                    double sum = 0;
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        int ty = iy + g.PadTop - kh;
                        if (ty < 0 || ty % g.StrideH != 0 || ty / g.StrideH >= g.OutH) continue;
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int tx = ix + g.PadLeft - kw;
                            if (tx < 0 || tx % g.StrideW != 0 || tx / g.StrideW >= g.OutW) continue;
                            int yRow = ((n * g.OutH + ty / g.StrideH) * g.OutW + tx / g.StrideW) * co;
                            int wRow = ((kh * g.KernelW + kw) * g.C + c) * co;
                            for (int o = 0; o < co; o++) sum += (double)dy[yRow + o] * w[wRow + o];
                        }
                    }
                    dx[((n * g.H + iy) * g.W + ix) * g.C + c] = (float)sum;
                }
        });
    }

    /// <summary>dw[kh, kw, c, o] = Σ over output pixels of x at that tap · dy; db[o] = Σ dy.</summary>
    public static void BackwardFilter(WindowGeometry g, float[] x, float[] dy, float[] dw, float[] db, int co)
    {
        Parallel.For(0, g.KernelH * g.KernelW * g.C, tapChannel =>
        {
            int c = tapChannel % g.C, tap = tapChannel / g.C, kh = tap / g.KernelW, kw = tap % g.KernelW;
            for (int o = 0; o < co; o++)
            {
                double sum = 0;
                for (int n = 0; n < g.N; n++)
                    for (int oy = 0; oy < g.OutH; oy++)
                        for (int ox = 0; ox < g.OutW; ox++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                            sum += (double)x[((n * g.H + iy) * g.W + ix) * g.C + c] * dy[((n * g.OutH + oy) * g.OutW + ox) * co + o];
                        }
                dw[tapChannel * co + o] = (float)sum;
            }
        });
        for (int o = 0; o < co; o++)
        {
            double s = 0;
            for (int p = 0; p < g.OutputPixels; p++) s += dy[p * co + o];
            db[o] = (float)s;
        }
    }
}
