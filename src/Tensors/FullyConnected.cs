using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>Fully connected layer: y[N, O] = x[N, I]·W[I, O] + b[O].</summary>
public static class FullyConnected
{
    /// <summary>y[N, out] = x[N, in]·w[in, out] (+ bias[out]).</summary>
    public static void Forward(Tensor x, Tensor w, Tensor? bias, Tensor y)
    {
        var (n, inputs, outputs) = Check(x, w, bias, y, "FullyConnected.Forward");
        var ys = y.Span;
        if (bias is not null)
            for (int r = 0; r < n; r++) bias.Span.CopyTo(ys.Slice(r * outputs, outputs));
        Gemm.Multiply(n, outputs, inputs, x.Span, inputs, false, w.Span, outputs, false, ys, outputs, accumulate: bias is not null);
    }

    /// <summary>dx = dy·Wᵀ.</summary>
    public static void BackwardData(Tensor dy, Tensor w, Tensor dx, bool accumulate = false)
    {
        var (n, inputs, outputs) = Check(dx, w, null, dy, "FullyConnected.BackwardData");
        Gemm.Multiply(n, inputs, outputs, dy.Span, outputs, false, w.Span, outputs, true, dx.Span, inputs, accumulate);
    }

    /// <summary>dW = xᵀ·dy, db = Σ_rows dy.</summary>
    public static void BackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor? db, bool accumulate = false)
    {
        var (n, inputs, outputs) = Check(x, dw, db, dy, "FullyConnected.BackwardWeights");
        Gemm.Multiply(inputs, outputs, n, x.Span, inputs, true, dy.Span, outputs, false, dw.Span, outputs, accumulate);
        if (db is null) return;
        var dbs = db.Span;
        if (!accumulate) dbs.Clear();
        for (int r = 0; r < n; r++) TensorPrimitives.Add(dbs, dy.Span.Slice(r * outputs, outputs), dbs);
    }

    /// <summary>x may have any rank; its first axis is the batch and the rest flatten to the inputs.</summary>
    private static (int N, int Inputs, int Outputs) Check(Tensor x, Tensor w, Tensor? bias, Tensor y, string op)
    {
        if (w.Rank != 2) throw new ArgumentException($"{op}: weight shape {w.ShapeString} must be [inputs, outputs].");
        int n = x.Dim(0), inputs = w.Dim(0), outputs = w.Dim(1);
        if (x.Length != n * inputs)
            throw new ArgumentException($"{op}: input shape {x.ShapeString} does not flatten to [{n}, {inputs}] for weights {w.ShapeString}.");
        if (y.Length != n * outputs || y.Dim(0) != n)
            throw new ArgumentException($"{op}: output shape {y.ShapeString} does not match [{n}, {outputs}] for weights {w.ShapeString}.");
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != outputs))
            throw new ArgumentException($"{op}: bias shape {bias.ShapeString} does not match [{outputs}].");
        return (n, inputs, outputs);
    }
}
