namespace NativeIg.Tensors;

/// <summary>Which way <see cref="DeviceKernels.FlattenChannelsFirst"/> copies between the NHWC map and the flat channels-first rows.</summary>
public enum FlattenDirection
{
    /// <summary>The forward pass: the map gathered into the flat rows.</summary>
    Forward,
    /// <summary>The backward pass: the rows' gradient written back into the map's.</summary>
    BackwardOverwrite,
    /// <summary>The backward pass: the rows' gradient added into the map's (a value used twice).</summary>
    BackwardAccumulate,
}

/// <summary>
/// Every op the tape and Integrated Gradients run on a <see cref="ComputeDevice"/>, forward and
/// backward, in the host kernels' layouts and with their semantics (each method names its host twin).
/// <c>accumulate</c> adds into the destination instead of overwriting it (gradients of a variable used
/// twice). Kernels are queued in order on the device; results are visible after
/// <see cref="ComputeDevice.Synchronize"/> or a copy to the host.
/// </summary>
/// <remarks>
/// Three ops take small tables as device tensors whose floats hold other types, so that the contract
/// needs no device-specific array type: <see cref="ChannelAffine"/>'s table (see
/// <see cref="UploadChannelAffineTable"/>), max pooling's taps (one int per output, as float bits), and
/// IG's float64 weights and integral (each double as two floats).
/// </remarks>
public abstract class DeviceKernels
{
    /// <summary>z = αx + βy elementwise (<see cref="Tensor.ScaleInto"/>); z may alias y.</summary>
    public abstract void Axpby(DeviceTensor x, DeviceTensor y, DeviceTensor z, float alpha, float beta);

    /// <summary>z (+)= x·y elementwise (<see cref="Tensor.MultiplyInto"/>).</summary>
    public abstract void Multiply(DeviceTensor x, DeviceTensor y, DeviceTensor z, bool accumulate = false);

    /// <summary>y (+)= value everywhere (<see cref="Tensor.Fill"/>).</summary>
    public abstract void Fill(DeviceTensor y, float value, bool accumulate = false);

    /// <summary>result[0] = Σ x (<see cref="Tensor.SumInto"/>).</summary>
    public abstract void Sum(DeviceTensor x, DeviceTensor result);

    /// <summary>sums[j] (+)= Σ_r x[r, j] for x of [rows, sums.Length] (<see cref="Tensor.ColumnSumsInto"/>).</summary>
    public abstract void ColumnSums(DeviceTensor x, DeviceTensor sums, bool accumulate);

    /// <summary>y = min(x, c) elementwise.</summary>
    public abstract void Minimum(DeviceTensor x, DeviceTensor y, float c);

    /// <summary>dx (+)= dy where x &lt; c (the tutorial's saturating function's chain rule).</summary>
    public abstract void MinimumBackward(DeviceTensor x, DeviceTensor dy, DeviceTensor dx, float c, bool accumulate);

    /// <summary>dx (+)= dy where y &gt; 0 (<see cref="Relu"/>'s backward, from its output).</summary>
    public abstract void ReluBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, bool accumulate = false);

    /// <summary>y = f(x) elementwise (<see cref="Tensors.Activation"/>).</summary>
    public abstract void Activation(ActivationFunction f, DeviceTensor x, DeviceTensor y);

    /// <summary>dx (+)= f′(x)·dy, f′ read from x or y as <paramref name="f"/> needs.</summary>
    public abstract void ActivationBackward(ActivationFunction f, DeviceTensor x, DeviceTensor y, DeviceTensor dy, DeviceTensor dx, bool accumulate = false);

    /// <summary>y[r, j] = x[r, j] + row[j] (<see cref="Tensors.AddBias"/>).</summary>
    public abstract void AddRows(DeviceTensor x, DeviceTensor row, DeviceTensor y);

    /// <summary>y[..., c] (+)= x[..., c]·s[n, c] (<see cref="Tensors.ScaleChannels"/>, squeeze-and-excitation).</summary>
    public abstract void ScaleChannels(DeviceTensor x, DeviceTensor s, DeviceTensor y, bool accumulate = false);

    /// <summary>ds[n, c] (+)= Σ over pixels of dy·x.</summary>
    public abstract void ScaleChannelsBackwardScale(DeviceTensor dy, DeviceTensor x, DeviceTensor ds, bool accumulate = false);

    /// <summary>NHWC map ↔ channels-first flat rows (<see cref="Tensors.FlattenChannelsFirst"/>), in the <paramref name="direction"/> given.</summary>
    public abstract void FlattenChannelsFirst(DeviceTensor map, DeviceTensor flat, int plane, int channels, FlattenDirection direction);

    /// <summary>y[r] = x[r, column] (or, with <paramref name="scatter"/>, x[r, column] += y[r]).</summary>
    public abstract void SelectColumn(DeviceTensor x, DeviceTensor y, int columns, int column, bool scatter);

    /// <summary>Convolution [N, H, W, CI] * [KH, KW, CI, CO] (+ bias, then ReLU when asked) → [N, OH, OW, CO] (<see cref="Conv2d"/>).</summary>
    public abstract void ConvForward(WindowGeometry g, DeviceTensor x, DeviceTensor w, DeviceTensor? bias, DeviceTensor y, bool relu);

    /// <summary>dx (+)= the convolution's input gradient (a convolution of dy with the flipped filter).</summary>
    public abstract void ConvBackwardData(WindowGeometry g, DeviceTensor dy, DeviceTensor w, DeviceTensor dx, bool accumulate = false);

    /// <summary>dw (+)= the convolution's filter gradient (im2col(x)ᵀ · dy).</summary>
    public abstract void ConvBackwardFilter(WindowGeometry g, DeviceTensor x, DeviceTensor dy, DeviceTensor dw, bool accumulate = false);

    /// <summary>Depthwise convolution [N, H, W, C] * [KH, KW, 1, C] (+ bias) (<see cref="DepthwiseConv2d"/>).</summary>
    public abstract void DepthwiseConvForward(WindowGeometry g, DeviceTensor x, DeviceTensor w, DeviceTensor? bias, DeviceTensor y);

    /// <summary>dx (+)= the depthwise convolution's input gradient.</summary>
    public abstract void DepthwiseConvBackwardData(WindowGeometry g, DeviceTensor dy, DeviceTensor w, DeviceTensor dx, bool accumulate = false);

    /// <summary>dw (+)= the depthwise convolution's filter gradient.</summary>
    public abstract void DepthwiseConvBackwardFilter(WindowGeometry g, DeviceTensor x, DeviceTensor dy, DeviceTensor dw, bool accumulate = false);

    /// <summary>Max pool (<see cref="Pool2d.MaxForward"/>); <paramref name="taps"/> (one int per output, as float bits) records the winning window position.</summary>
    public abstract void MaxPoolForward(WindowGeometry g, DeviceTensor x, DeviceTensor y, DeviceTensor taps);

    /// <summary>dx (+)= dy routed to each window's recorded winner.</summary>
    public abstract void MaxPoolBackward(WindowGeometry g, DeviceTensor dy, DeviceTensor taps, DeviceTensor dx, bool accumulate = false);

    /// <summary>Average pool (<see cref="Pool2d.AvgForward"/>).</summary>
    public abstract void AvgPoolForward(WindowGeometry g, DeviceTensor x, DeviceTensor y, AvgPoolDivisor divisor);

    /// <summary>dx (+)= dy spread over each window, divided by its divisor.</summary>
    public abstract void AvgPoolBackward(WindowGeometry g, DeviceTensor dy, DeviceTensor dx, AvgPoolDivisor divisor, bool accumulate = false);

    /// <summary>Local response normalisation across channels (<see cref="Lrn"/>).</summary>
    public abstract void LrnForward(LrnParameters p, DeviceTensor x, DeviceTensor y);

    /// <summary>dx (+)= LRN's input gradient (the normaliser recomputed from x).</summary>
    public abstract void LrnBackward(LrnParameters p, DeviceTensor x, DeviceTensor dy, DeviceTensor dx, bool accumulate = false);

    /// <summary>Softmax over the last axis of <paramref name="classes"/> (<see cref="Softmax"/>).</summary>
    public abstract void Softmax(DeviceTensor x, DeviceTensor y, int classes);

    /// <summary>dx (+)= y·(dy − Σ dy·y) per row.</summary>
    public abstract void SoftmaxBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, int classes, bool accumulate = false);

    /// <summary>Log-softmax over the last axis.</summary>
    public abstract void LogSoftmax(DeviceTensor x, DeviceTensor y, int classes);

    /// <summary>dx (+)= dy − exp(y)·Σ dy per row.</summary>
    public abstract void LogSoftmaxBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, int classes, bool accumulate = false);

    /// <summary>Concatenation along channels (<see cref="ChannelConcat"/>).</summary>
    public abstract void ConcatForward(IReadOnlyList<DeviceTensor> parts, DeviceTensor y);

    /// <summary>dPart (+)= dy's channels from <paramref name="channelOffset"/> on.</summary>
    public abstract void ConcatBackward(DeviceTensor dy, int channelOffset, DeviceTensor dPart, bool accumulate = false);

    /// <summary>y[..., c] = scale[c]·x[..., source[c]] + shift[c] (<see cref="Tensors.ChannelAffine"/>), with the table from <see cref="UploadChannelAffineTable"/>.</summary>
    public abstract void ChannelAffine(DeviceTensor x, DeviceTensor y, DeviceTensor table);

    /// <summary>dx[..., source[c]] (+)= scale[c]·dy[..., c].</summary>
    public abstract void ChannelAffineBackward(DeviceTensor dy, DeviceTensor dx, DeviceTensor table, bool accumulate);

    /// <summary>path[r] = x′ + α_r·(x − x′) for r &lt; alphas.Length; α = 0 and α = 1 give x′ and x exactly.</summary>
    public abstract void Interpolate(DeviceTensor baseline, DeviceTensor image, DeviceTensor alphas, DeviceTensor path);

    /// <summary>sum[j] += Σ_r weights[r]·rows[r, j] in float64; <paramref name="weights"/> and <paramref name="sum"/> hold doubles, two floats each.</summary>
    public abstract void AccumulateWeightedRows(DeviceTensor rows, DeviceTensor weights, DeviceTensor sum);

    /// <summary>sums[r] = Σ_j rows[r, j].</summary>
    public abstract void RowSums(DeviceTensor rows, DeviceTensor sums);

    /// <summary>
    /// <see cref="ChannelAffine"/>'s three per-channel tables in one device tensor of 3C floats:
    /// [scale | shift | source as int bits], so the forward and backward share one upload.
    /// </summary>
    public static DeviceTensor UploadChannelAffineTable(ComputeDevice device, int[] source, float[] scale, float[] shift)
    {
        ArgumentNullException.ThrowIfNull(device);
        int c = source.Length;
        if (scale.Length != c || shift.Length != c)
            throw new ArgumentException($"ChannelAffine: {c} sources, {scale.Length} scales and {shift.Length} shifts; one of each per channel.");
        var packed = new float[3 * c];
        scale.CopyTo(packed, 0);
        shift.CopyTo(packed, c);
        for (int i = 0; i < c; i++) packed[2 * c + i] = BitConverter.Int32BitsToSingle(source[i]);
        var table = device.Allocate(3 * c);
        try { table.CopyFromHost(packed); }
        catch { table.Dispose(); throw; }
        return table;
    }
}
