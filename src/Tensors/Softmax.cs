using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>Row-wise softmax and log-softmax over the last axis of [rows, classes], forward and backward.</summary>
public static class Softmax
{
    /// <summary>Row-wise numerically stable softmax over the last axis of a [rows, classes] matrix.</summary>
    public static void Forward(ReadOnlySpan<float> logits, Span<float> probabilities, int classes)
    {
        CheckRows(logits.Length, probabilities.Length, classes, "Softmax");
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var x = logits.Slice(r * classes, classes);
            var y = probabilities.Slice(r * classes, classes);
            TensorPrimitives.Subtract(x, TensorPrimitives.Max(x), y);
            TensorPrimitives.Exp(y, y);
            TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
        }
    }

    /// <summary>dx = y ⊙ (dy − Σ dy·y) per row.</summary>
    public static void Backward(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> dy, Span<float> dx, int classes, bool accumulate = false)
    {
        CheckRows(probabilities.Length, dy.Length, classes, "Softmax backward");
        CheckRows(probabilities.Length, dx.Length, classes, "Softmax backward");
        for (int r = 0; r < probabilities.Length / classes; r++)
        {
            var y = probabilities.Slice(r * classes, classes);
            var g = dy.Slice(r * classes, classes);
            var d = dx.Slice(r * classes, classes);
            float dot = TensorPrimitives.Dot(g, y);
            for (int i = 0; i < classes; i++)
            {
                float v = y[i] * (g[i] - dot);
                d[i] = accumulate ? d[i] + v : v;
            }
        }
    }

    /// <summary>y = x − max − log Σ exp(x − max) per row.</summary>
    public static void LogForward(ReadOnlySpan<float> logits, Span<float> result, int classes)
    {
        CheckRows(logits.Length, result.Length, classes, "LogSoftmax");
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var x = logits.Slice(r * classes, classes);
            var y = result.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(x);
            TensorPrimitives.Subtract(x, max, y);
            float logSum = 0;
            for (int i = 0; i < classes; i++) logSum += MathF.Exp(y[i]);
            TensorPrimitives.Subtract(y, MathF.Log(logSum), y);
        }
    }

    /// <summary>dx = dy − softmax·Σdy per row, with softmax = exp(y).</summary>
    public static void LogBackward(ReadOnlySpan<float> logProbabilities, ReadOnlySpan<float> dy, Span<float> dx, int classes, bool accumulate = false)
    {
        CheckRows(logProbabilities.Length, dy.Length, classes, "LogSoftmax backward");
        CheckRows(logProbabilities.Length, dx.Length, classes, "LogSoftmax backward");
        for (int r = 0; r < logProbabilities.Length / classes; r++)
        {
            var y = logProbabilities.Slice(r * classes, classes);
            var g = dy.Slice(r * classes, classes);
            var d = dx.Slice(r * classes, classes);
            float sum = TensorPrimitives.Sum(g);
            for (int i = 0; i < classes; i++)
            {
                float v = g[i] - MathF.Exp(y[i]) * sum;
                d[i] = accumulate ? d[i] + v : v;
            }
        }
    }

    private static void CheckRows(int a, int b, int classes, string op)
    {
        if (classes < 1 || a != b || a % classes != 0)
            throw new ArgumentException($"{op}: lengths {a} and {b} are not the same whole number of rows of {classes}.");
    }
}
