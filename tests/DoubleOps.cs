using NativeIg.Tensors;

namespace NativeIg.Tests;

/// <summary>
/// Each op's forward in double precision, written as plainly as possible. Finite differences of these
/// (step 1e-5, truncation error ~1e-10) are the ground truth the float32 backward passes are checked
/// against. NHWC layouts as in the engine.
/// </summary>
internal static class DoubleOps
{
    public static double[] Conv(WindowGeometry g, double[] x, double[] w, double[]? b, int co, bool relu)
    {
        var y = new double[g.N * g.OutH * g.OutW * co];
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int o = 0; o < co; o++)
                    {
                        double s = b?[o] ?? 0;
                        for (int kh = 0; kh < g.KernelH; kh++)
                            for (int kw = 0; kw < g.KernelW; kw++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                                for (int c = 0; c < g.C; c++)
                                    s += x[((n * g.H + iy) * g.W + ix) * g.C + c] * w[((kh * g.KernelW + kw) * g.C + c) * co + o];
                            }
                        y[((n * g.OutH + oy) * g.OutW + ox) * co + o] = relu ? Math.Max(s, 0) : s;
                    }
        return y;
    }

    public static double[] MaxPool(WindowGeometry g, double[] x)
    {
        var y = new double[g.N * g.OutH * g.OutW * g.C];
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < g.C; c++)
                    {
                        double best = double.NegativeInfinity;
                        for (int kh = 0; kh < g.KernelH; kh++)
                            for (int kw = 0; kw < g.KernelW; kw++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                                if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) best = Math.Max(best, x[((n * g.H + iy) * g.W + ix) * g.C + c]);
                            }
                        y[((n * g.OutH + oy) * g.OutW + ox) * g.C + c] = best;
                    }
        return y;
    }

    public static double[] AvgPool(WindowGeometry g, double[] x, AvgPoolDivisor divisor)
    {
        var y = new double[g.N * g.OutH * g.OutW * g.C];
        for (int n = 0; n < g.N; n++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < g.C; c++)
                    {
                        double s = 0; int valid = 0, padded = 0;
                        for (int kh = 0; kh < g.KernelH; kh++)
                            for (int kw = 0; kw < g.KernelW; kw++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + kh, ix = ox * g.StrideW - g.PadLeft + kw;
                                if (iy < g.H + g.PadTop && ix < g.W + g.PadLeft) padded++;
                                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                                s += x[((n * g.H + iy) * g.W + ix) * g.C + c];
                                valid++;
                            }
                        y[((n * g.OutH + oy) * g.OutW + ox) * g.C + c] = s / (divisor == AvgPoolDivisor.ValidOnly ? valid : padded);
                    }
        return y;
    }

    public static double[] Lrn(LrnParameters p, double[] x, int channels)
    {
        var y = new double[x.Length];
        for (int px = 0; px < x.Length / channels; px++)
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int j = Math.Max(0, c - p.Before); j <= Math.Min(channels - 1, c + p.After); j++) sum += x[px * channels + j] * x[px * channels + j];
                y[px * channels + c] = x[px * channels + c] * Math.Pow(p.K + p.Alpha / p.Size * sum, -p.Beta);
            }
        return y;
    }

    public static double[] Softmax(double[] x, int classes, bool log = false)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / classes; r++)
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < classes; i++) max = Math.Max(max, x[r * classes + i]);
            double sum = 0;
            for (int i = 0; i < classes; i++) sum += Math.Exp(x[r * classes + i] - max);
            for (int i = 0; i < classes; i++)
                y[r * classes + i] = log ? x[r * classes + i] - max - Math.Log(sum) : Math.Exp(x[r * classes + i] - max) / sum;
        }
        return y;
    }

    public static double[] FullyConnected(double[] x, double[] w, double[]? b, int n, int inputs, int outputs)
    {
        var y = new double[n * outputs];
        for (int r = 0; r < n; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + o];
                y[r * outputs + o] = s;
            }
        return y;
    }

    public static double[] Concat(IReadOnlyList<(double[] Data, int Channels)> parts, int pixels)
    {
        int total = parts.Sum(p => p.Channels);
        var y = new double[pixels * total];
        for (int px = 0; px < pixels; px++)
        {
            int offset = 0;
            foreach (var (data, c) in parts)
            {
                for (int ch = 0; ch < c; ch++) y[px * total + offset + ch] = data[px * c + ch];
                offset += c;
            }
        }
        return y;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }

    /// <summary>
    /// Central differences of L(x) = Σ_i seed_i·f(x)_i: the gradient of that weighted sum, which is what
    /// a backward pass seeded with <paramref name="seed"/> returns.
    /// </summary>
    public static double[] NumericGradient(Func<double[], double[]> f, double[] x, double[] seed, double h = 1e-5)
    {
        var grad = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            double plus = Dot(f(probe), seed);
            probe[i] = x[i] - h;
            double minus = Dot(f(probe), seed);
            probe[i] = x[i];
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
