namespace NativeIg.Tensors;

/// <summary>
/// NHWC [N, H, W, C] → [N, C·H·W] in NCHW order (c·H·W + h·W + w): ONNX's Flatten of a spatial map, so
/// that a classifier written for NCHW (VGG's 25,088 inputs) reads its inputs in the order it was trained
/// on. A permutation: the backward is the inverse permutation.
/// </summary>
public static class FlattenChannelsFirst
{
    /// <summary>NHWC [N, H, W, C] → [N, C·H·W] in ONNX's channels-first order (what Flatten after a convolution means there).</summary>
    public static void Forward(Tensor x, Tensor y) => Permute(x, y, toChannelsFirst: true, accumulate: false);

    /// <summary>dx[N, H, W, C] (+)= dy[N, C·H·W] put back in NHWC order.</summary>
    public static void Backward(Tensor dy, Tensor dx, bool accumulate = false) => Permute(dx, dy, toChannelsFirst: false, accumulate);

    private static void Permute(Tensor map, Tensor flat, bool toChannelsFirst, bool accumulate)
    {
        if (map.Rank != 4 || flat.Rank != 2 || flat.Dim(0) != map.Dim(0) || flat.Dim(1) != map.Length / map.Dim(0))
            throw new ArgumentException($"FlattenChannelsFirst: {map.ShapeString} and {flat.ShapeString} are not [N, H, W, C] and [N, C·H·W].");
        int n = map.Dim(0), plane = map.Dim(1) * map.Dim(2), c = map.Dim(3);
        var m = map.Span; var f = flat.Span;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
                for (int ch = 0; ch < c; ch++)
                {
                    int nhwc = (i * plane + p) * c + ch, nchw = (i * c + ch) * plane + p;
                    if (toChannelsFirst) f[nchw] = m[nhwc];
                    else m[nhwc] = accumulate ? m[nhwc] + f[nchw] : f[nchw];
                }
    }
}
