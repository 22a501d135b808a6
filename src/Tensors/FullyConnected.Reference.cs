namespace NativeIg.Tensors;

/// <summary>y[r, o] = b[o] + Σ_i x[r, i]·w[i, o], in double precision.</summary>
internal static class FullyConnectedReference
{
    public static double[] Forward(double[] x, double[] w, double[]? bias, int n, int inputs, int outputs)
    {
        var y = new double[n * outputs];
        for (int r = 0; r < n; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = bias?[o] ?? 0;
                for (int i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + o];
                y[r * outputs + o] = s;
            }
        return y;
    }
}
