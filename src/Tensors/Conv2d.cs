namespace NativeIg.Tensors;

/// <summary>
/// Convolution over NHWC input with HWIO filters [KH, KW, CI, CO] and bias [CO]: forward (with fused
/// ReLU), backward-data (dX) and backward-filter (dW, db). All three are GEMMs:
/// Y[P, CO] = col(X)[P, K]·W[K, CO]; dX from dY·Wᵀ; dW = col(X)ᵀ·dY; with P output pixels, K = KH·KW·CI.
/// </summary>
public static unsafe class Conv2d
{
    /// <summary>Column-matrix rows per chunk where one is materialised (stride &gt; 1 backward, dW).</summary>
    private const int ChunkFloats = 1 << 21;

    /// <summary>y[N, OH, OW, CO] = x[N, H, W, CI] ⊛ w[KH, KW, CI, CO] + bias[CO], then ReLU if asked; <paramref name="kernel"/> forces a GEMM path (null: the best this CPU has).</summary>
    public static void Forward(WindowGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, bool relu, GemmKernel? kernel = null) =>
        Forward(g, x, w, bias, y, relu, kernel, packedFilter: null);

    /// <summary>The forward with the filter already packed (<see cref="PackForward"/>: the tape caches it per frozen parameter).</summary>
    internal static void Forward(WindowGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, bool relu, GemmKernel? kernel, PackedB? packedFilter)
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

    /// <summary>dx[N, H, W, CI] (+)= ∂L/∂x given dy[N, OH, OW, CO] (already masked by the ReLU if one was fused).</summary>
    public static void BackwardData(WindowGeometry g, Tensor dy, Tensor w, Tensor dx, bool accumulate = false, GemmKernel? kernel = null) =>
        BackwardData(g, dy, w, dx, accumulate, kernel, packedFilter: null);

    /// <summary>The backward-data with the filter already packed for this geometry's route (<see cref="PackBackwardData"/>).</summary>
    internal static void BackwardData(WindowGeometry g, Tensor dy, Tensor w, Tensor dx, bool accumulate, GemmKernel? kernel, PackedB? packedFilter)
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
                        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, i =>
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
    internal static PackedB PackForward(Tensor w, GemmKernel? kernel = null)
    {
        int k = w.Dim(0) * w.Dim(1) * w.Dim(2), co = w.Dim(3);
        fixed (float* pw = w.Span) return PackedB.Pack(k, co, new DenseB(pw, co, false), kernel ?? Gemm.Best);
    }

    /// <summary>The filter packed as the backward-data GEMM's B operand for this geometry's route (Wᵀ, or the flipped filter for stride 1).</summary>
    internal static PackedB PackBackwardData(WindowGeometry g, Tensor w, GemmKernel? kernel = null)
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
    internal static string BackwardDataRoute(WindowGeometry g) =>
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
