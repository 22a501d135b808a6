namespace NativeIg.Tensors;

/// <summary>
/// The LRN formulas evaluated directly in double precision: y_c = x_c·s_c^−β with
/// s_c = k + α/n·Σ_{j in c's window} x_j², and the backward summed over every output whose window holds c.
/// </summary>
internal static class LrnReference
{
    public static double[] Forward(LrnParameters p, double[] x, int channels)
    {
        var y = new double[x.Length];
        for (int px = 0; px < x.Length / channels; px++)
            for (int c = 0; c < channels; c++)
                y[px * channels + c] = x[px * channels + c] * Math.Pow(ScaleAt(p, x, px * channels, channels, c), -p.Beta);
        return y;
    }

    public static double[] Backward(LrnParameters p, double[] x, double[] dy, int channels)
    {
        var dx = new double[x.Length];
        for (int px = 0; px < x.Length / channels; px++)
        {
            int b = px * channels;
            for (int c = 0; c < channels; c++)
            {
                // ∂L/∂x_c = Σ_{o} dy_o·∂y_o/∂x_c, over every output o whose window holds c.
                double grad = 0;
                for (int o = 0; o < channels; o++)
                {
                    if (c < o - p.Before || c > o + p.After) continue;
                    double s = ScaleAt(p, x, b, channels, o);
                    double d = -p.Beta * Math.Pow(s, -p.Beta - 1) * (2.0 * p.Alpha / p.Size) * x[b + c] * x[b + o];
                    if (o == c) d += Math.Pow(s, -p.Beta);
                    grad += dy[b + o] * d;
                }
                dx[b + c] = grad;
            }
        }
        return dx;
    }

    private static double ScaleAt(LrnParameters p, double[] x, int b, int channels, int c)
    {
        double sum = 0;
        for (int j = c - p.Before; j <= c + p.After; j++)
            if (j >= 0 && j < channels) sum += x[b + j] * x[b + j];
        return p.K + p.Alpha / p.Size * sum;
    }
}
