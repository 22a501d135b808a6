namespace NativeIg.Tensors;

/// <summary>
/// y[..., c] = scale[c]·x[..., source[c]] + shift[c] over the last axis: a channel permutation with a
/// per-channel affine map. Inception's preprocessing (RGB [0,1] → BGR·255 − mean) is one of these.
/// </summary>
public static class ChannelAffine
{
    /// <summary>y[..., c] = scale[c]·x[..., source[c]] + shift[c]: a channel permutation with a per-channel affine map.</summary>
    public static void Forward(Tensor x, Tensor y, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        int c = Check(x, y, source, scale, shift, "ChannelAffine.Forward");
        var xs = x.Span; var ys = y.Span;
        for (int px = 0; px < x.Length / c; px++)
            for (int ch = 0; ch < c; ch++)
                ys[px * c + ch] = scale[ch] * xs[px * c + source[ch]] + shift[ch];
    }

    /// <summary>dx[..., source[c]] (+)= scale[c]·dy[..., c].</summary>
    public static void Backward(Tensor dy, Tensor dx, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, bool accumulate = false)
    {
        int c = Check(dx, dy, source, scale, scale, "ChannelAffine.Backward");
        var dys = dy.Span; var dxs = dx.Span;
        if (!accumulate) dxs.Clear();
        for (int px = 0; px < dx.Length / c; px++)
            for (int ch = 0; ch < c; ch++)
                dxs[px * c + source[ch]] += scale[ch] * dys[px * c + ch];
    }

    private static int Check(Tensor x, Tensor y, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, string op)
    {
        Tensor.RequireSameShape(x, y, op);
        int c = x.Dim(x.Rank - 1);
        if (source.Length != c || scale.Length != c || shift.Length != c)
            throw new ArgumentException($"{op}: {c} channels but source/scale/shift have {source.Length}/{scale.Length}/{shift.Length} entries.");
        foreach (int s in source)
            if ((uint)s >= (uint)c) throw new ArgumentException($"{op}: source channel {s} is outside [0, {c}).");
        return c;
    }
}
