namespace NativeIg.Tensors;

/// <summary>Channel concatenation pixel by pixel, in double precision.</summary>
internal static class ChannelConcatReference
{
    public static double[] Forward(IReadOnlyList<(double[] Data, int Channels)> parts, int pixels)
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
}
