namespace NativeIg.Tensors;

/// <summary>Softmax and log-softmax over the last axis of [rows, classes], in double precision.</summary>
internal static class SoftmaxReference
{
    public static double[] Forward(double[] x, int classes, bool log = false)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / classes; r++)
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < classes; i++) max = Math.Max(max, x[r * classes + i]);
            double sum = 0;
            for (int i = 0; i < classes; i++) sum += Math.Exp(x[r * classes + i] - max);
            for (int i = 0; i < classes; i++)
                y[r * classes + i] = log ? x[r * classes + i] - max - Math.Log(sum) : Math.Exp(x[r * classes + i] - max) / sum;
        }
        return y;
    }

    /// <summary>Softmax's backward from its output: dx = y ⊙ (dy − Σ dy·y), row by row.</summary>
    public static double[] Backward(double[] y, double[] dy, int classes)
    {
        var dx = new double[y.Length];
        for (int r = 0; r < y.Length / classes; r++)
        {
            double dot = 0;
            for (int i = 0; i < classes; i++) dot += dy[r * classes + i] * y[r * classes + i];
            for (int i = 0; i < classes; i++) dx[r * classes + i] = y[r * classes + i] * (dy[r * classes + i] - dot);
        }
        return dx;
    }
}
