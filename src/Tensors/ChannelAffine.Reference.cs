namespace NativeIg.Tensors;

/// <summary>y[..., c] = scale[c]·x[..., source[c]] + shift[c], in double precision.</summary>
internal static class ChannelAffineReference
{
    public static double[] Forward(double[] x, int[] source, float[] scale, float[] shift)
    {
        int c = source.Length;
        var y = new double[x.Length];
        for (int px = 0; px < x.Length / c; px++)
            for (int ch = 0; ch < c; ch++) y[px * c + ch] = (double)scale[ch] * x[px * c + source[ch]] + shift[ch];
        return y;
    }
}
