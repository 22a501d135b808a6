namespace NativeIg.InceptionV1;

/// <summary>One inception block's filter counts, as in table 1 of the GoogLeNet paper.</summary>
public readonly record struct InceptionSpec(string Name, int Conv1x1, int Reduce3x3, int Conv3x3, int Reduce5x5, int Conv5x5, int PoolProj)
{
    /// <summary>The block's output depth: the four branches' channels together.</summary>
    public int Outputs => Conv1x1 + Conv3x3 + Conv5x5 + PoolProj;
}

/// <summary>The kinds of row in <see cref="GoogLeNet.Table1"/>.</summary>
public enum StageType
{
    /// <summary>A convolution with its ReLU.</summary>
    Convolution,
    /// <summary>A max pool.</summary>
    MaxPool,
    /// <summary>Local response normalisation (Caffe's model has two; the paper's table has none).</summary>
    Lrn,
    /// <summary>An inception block (<see cref="InceptionSpec"/>).</summary>
    Inception,
    /// <summary>The 7×7 average pool before the classifier.</summary>
    AvgPool,
    /// <summary>The fully connected classifier.</summary>
    Linear,
}

/// <summary>
/// One row of table 1 of the GoogLeNet paper (Szegedy et al. 2015): the layer, its patch size, stride
/// and padding, and its output size and depth as the paper prints them. Caffe's model adds the two LRN
/// rows, which the paper's table leaves out; dropout is the identity at inference and has no row.
/// </summary>
public sealed record Stage(StageType Type, string Name, int Patch, int Stride, int Pad, int OutputSize, int Depth, InceptionSpec? Block = null)
{
    /// <summary>A convolution row.</summary>
    public static Stage Convolution(string name, int patch, int stride, int pad, int outputSize, int depth) => new(StageType.Convolution, name, patch, stride, pad, outputSize, depth);
    /// <summary>A max-pool row.</summary>
    public static Stage MaxPool(string name, int patch, int stride, int pad, int outputSize, int depth) => new(StageType.MaxPool, name, patch, stride, pad, outputSize, depth);
    /// <summary>An LRN row (same size and depth as its input).</summary>
    public static Stage Lrn(string name, int outputSize, int depth) => new(StageType.Lrn, name, 0, 1, 0, outputSize, depth);
    /// <summary>An average-pool row (no padding).</summary>
    public static Stage AvgPool(string name, int patch, int stride, int outputSize, int depth) => new(StageType.AvgPool, name, patch, stride, 0, outputSize, depth);
    /// <summary>The classifier row: <paramref name="depth"/> outputs.</summary>
    public static Stage Linear(string name, int depth) => new(StageType.Linear, name, 0, 1, 0, 1, depth);

    /// <summary>An inception row with the block's filter counts, in the paper's column order.</summary>
    public static Stage Inception(string name, int outputSize, int conv1x1, int reduce3x3, int conv3x3, int reduce5x5, int conv5x5, int poolProj)
    {
        var block = new InceptionSpec(name, conv1x1, reduce3x3, conv3x3, reduce5x5, conv5x5, poolProj);
        return new(StageType.Inception, name, 0, 1, 0, outputSize, block.Outputs, block);
    }
}
