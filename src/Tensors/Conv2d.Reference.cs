namespace NativeIg.Tensors;

/// <summary>
/// Convolution by its defining sums, in double precision: the one reference the GEMM paths, the device
/// kernels and the finite-difference gradient checks are all compared with. NHWC x, HWIO w. Rows run in
/// parallel only so that full GoogLeNet shapes fit in a test run.
/// </summary>
internal static class Conv2dReference
{
    /// <summary>y[n, oy, ox, o] = b[o] + Σ_{kh, kw, c} x[n, oy·s − pad + kh, ox·s − pad + kw, c]·w[kh, kw, c, o], then ReLU if asked.</summary>
    public static double[] Forward(WindowGeometry g, double[] x, double[] w, double[]? bias, int co, bool relu)
    {
        var y = new double[g.N * g.OutH * g.OutW * co];
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
                            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue; // zero padding
                            for (int c = 0; c < g.C; c++)
                                sum += x[((n * g.H + iy) * g.W + ix) * g.C + c] * w[((kh * g.KernelW + kw) * g.C + c) * co + o];
                        }
                    y[((n * g.OutH + oy) * g.OutW + ox) * co + o] = relu && sum < 0 ? 0 : sum;
                }
        });
        return y;
    }

    /// <summary>dx[n, iy, ix, c] = Σ over (kh, kw, o) with oy·s − pad + kh = iy (and likewise for x) of dy·w.</summary>
    public static double[] BackwardData(WindowGeometry g, double[] dy, double[] w, int co)
    {
        var dx = new double[g.N * g.H * g.W * g.C];
        Parallel.For(0, g.N * g.H, row =>
        {
            int n = row / g.H, iy = row % g.H;
            for (int ix = 0; ix < g.W; ix++)
                for (int c = 0; c < g.C; c++)
                {
                    double sum = 0;
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        int oy = g.OutputRowAt(iy, kh);
                        if (oy < 0) continue;
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int ox = g.OutputColumnAt(ix, kw);
                            if (ox < 0) continue;
                            int yRow = ((n * g.OutH + oy) * g.OutW + ox) * co;
                            int wRow = ((kh * g.KernelW + kw) * g.C + c) * co;
                            for (int o = 0; o < co; o++) sum += dy[yRow + o] * w[wRow + o];
                        }
                    }
                    dx[((n * g.H + iy) * g.W + ix) * g.C + c] = sum;
                }
        });
        return dx;
    }

    /// <summary>dw[kh, kw, c, o] = Σ over output pixels of x at that tap · dy; db[o] = Σ dy.</summary>
    public static (double[] Filter, double[] Bias) BackwardFilter(WindowGeometry g, double[] x, double[] dy, int co)
    {
        var dw = new double[g.KernelH * g.KernelW * g.C * co];
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
                            sum += x[((n * g.H + iy) * g.W + ix) * g.C + c] * dy[((n * g.OutH + oy) * g.OutW + ox) * co + o];
                        }
                dw[tapChannel * co + o] = sum;
            }
        });
        var db = new double[co];
        for (int p = 0; p < g.OutputPixels; p++)
            for (int o = 0; o < co; o++) db[o] += dy[p * co + o];
        return (dw, db);
    }
}
