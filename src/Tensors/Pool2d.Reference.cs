namespace NativeIg.Tensors;

/// <summary>
/// Pooling by its definitions, in double precision, one output at a time: the reference for the
/// vectorised and device kernels and for the finite-difference checks. Windows that hang over the
/// border skip the missing pixels (the maximum) or count them by <see cref="AvgPoolDivisor"/> (the mean).
/// </summary>
internal static class Pool2dReference
{
    /// <summary>Max pool, with taps[i] = the window position (kh·KW + kw) of the first maximum in row-major order.</summary>
    public static double[] MaxForward(WindowGeometry g, double[] x, out byte[] taps)
    {
        var y = new double[g.N * g.OutH * g.OutW * g.C];
        taps = new byte[y.Length];
        foreach (var (o, n, oy, ox, c) in Outputs(g))
        {
            double best = double.NegativeInfinity; int bestTap = -1;
            foreach (var (at, tap) in Window(g, n, oy, ox, c))
                if (bestTap < 0 || x[at] > best) { best = x[at]; bestTap = tap; }
            y[o] = best;
            taps[o] = (byte)bestTap;
        }
        return y;
    }

    /// <summary>dx[the input under tap i] += dy[i].</summary>
    public static double[] MaxBackward(WindowGeometry g, double[] dy, byte[] taps)
    {
        var dx = new double[g.N * g.H * g.W * g.C];
        foreach (var (o, n, oy, ox, c) in Outputs(g))
        {
            int iy = oy * g.StrideH - g.PadTop + taps[o] / g.KernelW, ix = ox * g.StrideW - g.PadLeft + taps[o] % g.KernelW;
            dx[((n * g.H + iy) * g.W + ix) * g.C + c] += dy[o];
        }
        return dx;
    }

    /// <summary>y = Σ window / divisor.</summary>
    public static double[] AvgForward(WindowGeometry g, double[] x, AvgPoolDivisor divisor)
    {
        var y = new double[g.N * g.OutH * g.OutW * g.C];
        foreach (var (o, n, oy, ox, c) in Outputs(g))
        {
            double sum = 0;
            foreach (var (at, _) in Window(g, n, oy, ox, c)) sum += x[at];
            y[o] = sum / Divisor(g, oy, ox, divisor);
        }
        return y;
    }

    /// <summary>dx[every input in the window of i] += dy[i] / divisor.</summary>
    public static double[] AvgBackward(WindowGeometry g, double[] dy, AvgPoolDivisor divisor)
    {
        var dx = new double[g.N * g.H * g.W * g.C];
        foreach (var (o, n, oy, ox, c) in Outputs(g))
        {
            double share = dy[o] / Divisor(g, oy, ox, divisor);
            foreach (var (at, _) in Window(g, n, oy, ox, c)) dx[at] += share;
        }
        return dx;
    }

    /// <summary>
    /// The window's pixel count: those inside the input (ValidOnly, TensorFlow), or those inside the
    /// padded input (IncludePadding, Caffe: a window past the bottom/right padding does not count that part).
    /// </summary>
    private static int Divisor(WindowGeometry g, int oy, int ox, AvgPoolDivisor divisor)
    {
        int valid = 0, padded = 0;
        for (int kh = 0; kh < g.KernelH; kh++)
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy < g.H + g.PadTop && ix < g.W + g.PadLeft) padded++;
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) valid++;
            }
        return divisor == AvgPoolDivisor.ValidOnly ? valid : padded;
    }

    private static IEnumerable<(int Index, int N, int Oy, int Ox, int C)> Outputs(WindowGeometry g)
    {
        int o = 0;
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < g.C; c++) yield return (o++, n, oy, ox, c);
    }

    /// <summary>The input indices under one output's window that lie inside the input, with their tap numbers.</summary>
    private static IEnumerable<(int Index, int Tap)> Window(WindowGeometry g, int n, int oy, int ox, int c)
    {
        for (int kh = 0; kh < g.KernelH; kh++)
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) yield return (((n * g.H + iy) * g.W + ix) * g.C + c, kh * g.KernelW + kw);
            }
    }
}
