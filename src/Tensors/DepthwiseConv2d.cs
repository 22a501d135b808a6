using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>
/// Depthwise convolution (MobileNet's): each channel convolved with its own KH×KW filter, NHWC x
/// [N, H, W, C], filter [KH, KW, C], bias [C] → [N, OH, OW, C]. With channels innermost every step is a
/// vector operation over C: y[p, :] += x[p's tap, :] ⊙ w[tap, :]. The backward-data pass gathers
/// (each input pixel sums the windows covering it), so rows run in parallel without races.
/// </summary>
public static class DepthwiseConv2d
{
    /// <summary>Depthwise convolution: y[N, OH, OW, C] = x[N, H, W, C] ⊛ w[KH, KW, 1, C] per channel (+ bias[C]).</summary>
    public static void Forward(WindowGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y)
    {
        Check(g, x, w, bias, "DepthwiseConv2d.Forward");
        g.RequireOutput(y, g.C, "DepthwiseConv2d.Forward");
        int c = g.C;
        Parallel.For(0, g.N * g.OutH, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, row =>
        {
            int n = row / g.OutH, oy = row % g.OutH;
            var xs = x.Span; var ws = w.Span; var ys = y.Span;
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var o = ys.Slice(((n * g.OutH + oy) * g.OutW + ox) * c, c);
                if (bias is null) o.Clear(); else bias.Span.CopyTo(o);
                for (int kh = 0; kh < g.KernelH; kh++)
                {
                    int iy = oy * g.StrideH - g.PadTop + kh;
                    if (iy < 0 || iy >= g.H) continue;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        int ix = ox * g.StrideW - g.PadLeft + kw;
                        if (ix < 0 || ix >= g.W) continue;
                        TensorPrimitives.MultiplyAdd(xs.Slice(((n * g.H + iy) * g.W + ix) * c, c), ws.Slice((kh * g.KernelW + kw) * c, c), o, o);
                    }
                }
            }
        });
    }

    /// <summary>dx (+)= Σ over the windows covering each input pixel of dy ⊙ w at the tap that met it.</summary>
    public static void BackwardData(WindowGeometry g, Tensor dy, Tensor w, Tensor dx, bool accumulate = false)
    {
        int c = g.C;
        g.RequireInput(dx, "DepthwiseConv2d.BackwardData");
        g.RequireOutput(dy, c, "DepthwiseConv2d.BackwardData");
        Parallel.For(0, g.N * g.H, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, row =>
        {
            int n = row / g.H, iy = row % g.H;
            var dys = dy.Span; var ws = w.Span; var dxs = dx.Span;
            for (int ix = 0; ix < g.W; ix++)
            {
                var d = dxs.Slice(((n * g.H + iy) * g.W + ix) * c, c);
                if (!accumulate) d.Clear();
                for (int kh = 0; kh < g.KernelH; kh++)
                {
                    int oy = g.OutputRowAt(iy, kh);
                    if (oy < 0) continue;
                    for (int kw = 0; kw < g.KernelW; kw++)
                    {
                        int ox = g.OutputColumnAt(ix, kw);
                        if (ox < 0) continue;
                        var from = dys.Slice(((n * g.OutH + oy) * g.OutW + ox) * c, c);
                        TensorPrimitives.MultiplyAdd(from, ws.Slice((kh * g.KernelW + kw) * c, c), d, d);
                    }
                }
            }
        });
    }

    /// <summary>dw[tap, :] (+)= Σ over output pixels of x at that tap ⊙ dy; db (+)= Σ dy.</summary>
    public static void BackwardFilter(WindowGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor? db, bool accumulate = false)
    {
        int c = g.C;
        Check(g, x, dw, db, "DepthwiseConv2d.BackwardFilter");
        g.RequireOutput(dy, c, "DepthwiseConv2d.BackwardFilter");
        Parallel.For(0, g.KernelH * g.KernelW, new ParallelOptions { MaxDegreeOfParallelism = ComputeThreads.Current }, tap =>
        {
            int kh = tap / g.KernelW, kw = tap % g.KernelW;
            var xs = x.Span; var dys = dy.Span;
            var d = dw.Span.Slice(tap * c, c);
            if (!accumulate) d.Clear();
            for (int n = 0; n < g.N; n++)
                for (int oy = 0; oy < g.OutH; oy++)
                {
                    int iy = oy * g.StrideH - g.PadTop + kh;
                    if (iy < 0 || iy >= g.H) continue;
                    for (int ox = 0; ox < g.OutW; ox++)
                    {
                        int ix = ox * g.StrideW - g.PadLeft + kw;
                        if (ix < 0 || ix >= g.W) continue;
                        TensorPrimitives.MultiplyAdd(xs.Slice(((n * g.H + iy) * g.W + ix) * c, c), dys.Slice(((n * g.OutH + oy) * g.OutW + ox) * c, c), d, d);
                    }
                }
        });
        if (db is not null) Tensor.ColumnSumsInto(db, dy, accumulate);
    }

    private static void Check(WindowGeometry g, Tensor x, Tensor w, Tensor? bias, string op)
    {
        g.RequireInput(x, op);
        if (w.Rank != 3 || w.Dim(0) != g.KernelH || w.Dim(1) != g.KernelW || w.Dim(2) != g.C)
            throw new ArgumentException($"{op}: filter shape {w.ShapeString} does not match the expected [{g.KernelH}, {g.KernelW}, {g.C}].");
        if (bias is not null && bias.Length != g.C) throw new ArgumentException($"{op}: bias shape {bias.ShapeString} does not match the {g.C} channels.");
    }
}

/// <summary>Depthwise convolution by its defining sums, in double precision.</summary>
internal static class DepthwiseConv2dReference
{
    public static double[] Forward(WindowGeometry g, double[] x, double[] w, double[]? bias)
    {
        var y = new double[g.N * g.OutH * g.OutW * g.C];
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < g.C; c++)
                    {
                        double s = bias?[c] ?? 0;
                        for (int kh = 0; kh < g.KernelH; kh++)
                            for (int kw = 0; kw < g.KernelW; kw++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) s += x[((n * g.H + iy) * g.W + ix) * g.C + c] * w[(kh * g.KernelW + kw) * g.C + c];
                            }
                        y[((n * g.OutH + oy) * g.OutW + ox) * g.C + c] = s;
                    }
        return y;
    }
}
