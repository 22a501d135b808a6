namespace NativeIg.Tensors;

/// <summary>
/// Shapes of a 2-D convolution or pooling window over NHWC input: input [N, H, W, C] → output
/// [N, OutH, OutW, ·]. Pads may be asymmetric (TF SAME puts the odd pixel at the bottom/right).
/// </summary>
public readonly record struct WindowGeometry(
    int N, int H, int W, int C,
    int KernelH, int KernelW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int PadBottom, int PadRight,
    int OutH, int OutW)
{
    /// <summary>Caffe convolution: symmetric pad, floor rounding.</summary>
    public static WindowGeometry ConvCaffe(int n, int h, int w, int c, int kernel, int stride, int pad)
    {
        Validate(n, h, w, c, kernel, kernel, stride, pad);
        int oh = (h + 2 * pad - kernel) / stride + 1;
        int ow = (w + 2 * pad - kernel) / stride + 1;
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"A {kernel}×{kernel} window with pad {pad} does not fit a {h}×{w} input.");
        return new(n, h, w, c, kernel, kernel, stride, stride, pad, pad, pad, pad, oh, ow);
    }

    /// <summary>Caffe pooling: symmetric pad, ceil rounding, and the last window must start inside the image or its top/left pad.</summary>
    public static WindowGeometry PoolCaffe(int n, int h, int w, int c, int kernel, int stride, int pad)
    {
        Validate(n, h, w, c, kernel, kernel, stride, pad);
        if (pad >= kernel) throw new ArgumentException($"Pool pad {pad} must be smaller than the kernel {kernel}.");
        int oh = CeilDiv(h + 2 * pad - kernel, stride) + 1;
        int ow = CeilDiv(w + 2 * pad - kernel, stride) + 1;
        // Caffe drops a last window that would start in the bottom/right pad (it checks only when
        // pad > 0; with stride > kernel the same can happen at pad 0, where Caffe reads an empty window).
        if ((oh - 1) * stride >= h + pad) oh--;
        if ((ow - 1) * stride >= w + pad) ow--;
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"A {kernel}×{kernel} pool window does not fit a {h}×{w} input.");
        // Windows may run past the bottom/right edge by up to stride-1 pixels: extend the virtual pad.
        int padBottom = Math.Max(pad, (oh - 1) * stride + kernel - h - pad);
        int padRight = Math.Max(pad, (ow - 1) * stride + kernel - w - pad);
        return new(n, h, w, c, kernel, kernel, stride, stride, pad, pad, padBottom, padRight, oh, ow);
    }

    /// <summary>TensorFlow SAME: out = ceil(in/stride), total pad split with the extra pixel at the bottom/right.</summary>
    public static WindowGeometry Same(int n, int h, int w, int c, int kernelH, int kernelW, int strideH, int strideW)
    {
        Validate(n, h, w, c, kernelH, kernelW, Math.Min(strideH, strideW), 0);
        int oh = CeilDiv(h, strideH), ow = CeilDiv(w, strideW);
        int padH = Math.Max((oh - 1) * strideH + kernelH - h, 0);
        int padW = Math.Max((ow - 1) * strideW + kernelW - w, 0);
        return new(n, h, w, c, kernelH, kernelW, strideH, strideW, padH / 2, padW / 2, padH - padH / 2, padW - padW / 2, oh, ow);
    }

    /// <summary>TensorFlow VALID: no pad, floor rounding.</summary>
    public static WindowGeometry Valid(int n, int h, int w, int c, int kernelH, int kernelW, int strideH, int strideW)
    {
        Validate(n, h, w, c, kernelH, kernelW, Math.Min(strideH, strideW), 0);
        if (kernelH > h || kernelW > w)
            throw new ArgumentException($"A {kernelH}×{kernelW} VALID window does not fit a {h}×{w} input.");
        return new(n, h, w, c, kernelH, kernelW, strideH, strideW, 0, 0, 0, 0, (h - kernelH) / strideH + 1, (w - kernelW) / strideW + 1);
    }

    /// <summary>
    /// Explicit pads per side (ONNX's pads = [top, left, bottom, right]) with floor or ceil rounding. With
    /// ceil, a last window that would start in the end padding is dropped (ONNX Runtime and PyTorch do
    /// the same), and the end pad grows to cover the last window.
    /// </summary>
    public static WindowGeometry Explicit(int n, int h, int w, int c, int kernelH, int kernelW, int strideH, int strideW,
        int padTop, int padLeft, int padBottom, int padRight, bool ceilMode = false)
    {
        Validate(n, h, w, c, kernelH, kernelW, Math.Min(strideH, strideW), Math.Min(Math.Min(padTop, padLeft), Math.Min(padBottom, padRight)));
        int oh = Outputs(h, kernelH, strideH, padTop, padBottom, ceilMode), ow = Outputs(w, kernelW, strideW, padLeft, padRight, ceilMode);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"A {kernelH}×{kernelW} window with pads {padTop},{padLeft},{padBottom},{padRight} does not fit a {h}×{w} input.");
        int bottom = Math.Max(padBottom, (oh - 1) * strideH + kernelH - h - padTop);
        int right = Math.Max(padRight, (ow - 1) * strideW + kernelW - w - padLeft);
        return new(n, h, w, c, kernelH, kernelW, strideH, strideW, padTop, padLeft, bottom, right, oh, ow);
    }

    private static int Outputs(int size, int kernel, int stride, int padBegin, int padEnd, bool ceil)
    {
        int span = size + padBegin + padEnd - kernel;
        if (span < 0) return 0;
        int outputs = (ceil ? CeilDiv(span, stride) : span / stride) + 1;
        if (ceil && (outputs - 1) * stride >= size + padBegin) outputs--;
        return outputs;
    }

    /// <summary>The output row whose window meets input row <paramref name="iy"/> at tap row <paramref name="kh"/>, or −1 (the gather form of a backward pass).</summary>
    public int OutputRowAt(int iy, int kh)
    {
        int t = iy + PadTop - kh;
        return t < 0 || t % StrideH != 0 || t / StrideH >= OutH ? -1 : t / StrideH;
    }

    /// <summary>The output column whose window meets input column <paramref name="ix"/> at tap column <paramref name="kw"/>, or −1.</summary>
    public int OutputColumnAt(int ix, int kw)
    {
        int t = ix + PadLeft - kw;
        return t < 0 || t % StrideW != 0 || t / StrideW >= OutW ? -1 : t / StrideW;
    }

    /// <summary>The input shape this geometry expects: [N, H, W, C].</summary>
    public int[] InputShape => [N, H, W, C];
    /// <summary>Output pixels over the batch: N·OH·OW.</summary>
    public int OutputPixels => N * OutH * OutW;

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static void Validate(int n, int h, int w, int c, int kh, int kw, int stride, int pad)
    {
        if (n < 1 || h < 1 || w < 1 || c < 1)
            throw new ArgumentException($"Input [N={n}, H={h}, W={w}, C={c}] must have every dimension ≥ 1.");
        if (kh < 1 || kw < 1 || stride < 1 || pad < 0)
            throw new ArgumentException($"Window {kh}×{kw}, stride {stride}, pad {pad}: kernel and stride must be ≥ 1 and pad ≥ 0.");
    }

    /// <summary>Throws unless <paramref name="x"/> is the NHWC input this geometry describes.</summary>
    public void RequireInput(Tensor x, string op)
    {
        if (x.Rank != 4 || x.Dim(0) != N || x.Dim(1) != H || x.Dim(2) != W || x.Dim(3) != C)
            throw new ArgumentException($"{op}: input shape {x.ShapeString} does not match the expected {Tensor.Describe(InputShape)}.");
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="op"/> unless <paramref name="y"/> is [N, OH, OW, <paramref name="channels"/>].</summary>
    public void RequireOutput(Tensor y, int channels, string op)
    {
        if (y.Rank != 4 || y.Dim(0) != N || y.Dim(1) != OutH || y.Dim(2) != OutW || y.Dim(3) != channels)
            throw new ArgumentException($"{op}: shape {y.ShapeString} does not match the expected {Tensor.Describe([N, OutH, OutW, channels])}.");
    }
}
