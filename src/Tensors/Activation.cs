using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>The element-wise activations beside ReLU (ONNX's names and defaults).</summary>
public enum ActivationKind
{
    /// <summary>x ≥ 0 ? x : α·x (α default 0.01).</summary>
    LeakyRelu,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>min(max(x, α), β): α the minimum, β the maximum (ReLU6 is Clip(0, 6)).</summary>
    Clip,
    /// <summary>max(0, min(1, α·x + β)) (α default 0.2, β 0.5).</summary>
    HardSigmoid,
    /// <summary>x·max(0, min(1, x/6 + 1/2)).</summary>
    HardSwish,
}

/// <summary>An activation and its two parameters (what each means: <see cref="ActivationKind"/>).</summary>
public readonly record struct ActivationFunction(ActivationKind Kind, float Alpha = 0f, float Beta = 0f)
{
    /// <summary>Leaky ReLU: x for x ≥ 0, αx below.</summary>
    public static ActivationFunction LeakyRelu(float alpha = 0.01f) => new(ActivationKind.LeakyRelu, alpha);
    /// <summary>The logistic sigmoid 1/(1 + e^−x).</summary>
    public static ActivationFunction Sigmoid => new(ActivationKind.Sigmoid);
    /// <summary>The hyperbolic tangent.</summary>
    public static ActivationFunction Tanh => new(ActivationKind.Tanh);
    /// <summary>Clamps to [min, max] (ReLU6 is Clip(0, 6)).</summary>
    public static ActivationFunction Clip(float min, float max) => new(ActivationKind.Clip, min, max);
    /// <summary>max(0, min(1, αx + β)).</summary>
    public static ActivationFunction HardSigmoid(float alpha = 0.2f, float beta = 0.5f) => new(ActivationKind.HardSigmoid, alpha, beta);
    /// <summary>x·HardSigmoid(x) with α = 1/6, β = 1/2 (MobileNetV3).</summary>
    public static ActivationFunction HardSwish => new(ActivationKind.HardSwish);

    /// <summary>f(x) in float, as every kernel (host and device) computes it.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.LeakyRelu => x >= 0f ? x : Alpha * x,
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Clip => MathF.Min(MathF.Max(x, Alpha), Beta),
        ActivationKind.HardSigmoid => MathF.Max(0f, MathF.Min(1f, Alpha * x + Beta)),
        _ => x * MathF.Max(0f, MathF.Min(1f, x / 6f + 0.5f)),
    };

    /// <summary>f′(x), from x and y = f(x) (sigmoid and tanh read y).</summary>
    public float Derivative(float x, float y) => Kind switch
    {
        ActivationKind.LeakyRelu => x >= 0f ? 1f : Alpha,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.Tanh => 1f - y * y,
        ActivationKind.Clip => x >= Alpha && x <= Beta ? 1f : 0f,
        ActivationKind.HardSigmoid => Alpha * x + Beta is > 0f and < 1f ? Alpha : 0f,
        _ => x < -3f ? 0f : x > 3f ? 1f : (2f * x + 3f) / 6f,
    };
}

/// <summary>The host kernels of <see cref="ActivationFunction"/>: y = f(x), and dx (+)= f′(x)·dy.</summary>
public static class Activation
{
    /// <summary>y = f(x) elementwise (x and y of one length).</summary>
    public static void Forward(ActivationFunction f, ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Activation: {x.Length} inputs and {y.Length} outputs.");
        switch (f.Kind)
        {
            case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case ActivationKind.Tanh: TensorPrimitives.Tanh(x, y); break;
            default:
                for (int i = 0; i < x.Length; i++) y[i] = f.Apply(x[i]);
                break;
        }
    }

    /// <summary>dx (+)= f′(x)·dy elementwise, f′ read from x or y as the function needs.</summary>
    public static void Backward(ActivationFunction f, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate = false)
    {
        if (x.Length != dy.Length || x.Length != dx.Length || x.Length != y.Length) throw new ArgumentException("Activation backward: x, y, dy and dx differ in length.");
        for (int i = 0; i < x.Length; i++)
        {
            float v = f.Derivative(x[i], y[i]) * dy[i];
            dx[i] = accumulate ? dx[i] + v : v;
        }
    }
}

/// <summary>The activations by their definitions, in double precision.</summary>
internal static class ActivationReference
{
    public static double[] Forward(ActivationFunction f, double[] x) => x.Select(v => f.Kind switch
    {
        ActivationKind.LeakyRelu => v >= 0 ? v : f.Alpha * v,
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-v)),
        ActivationKind.Tanh => Math.Tanh(v),
        ActivationKind.Clip => Math.Min(Math.Max(v, f.Alpha), f.Beta),
        ActivationKind.HardSigmoid => Math.Max(0, Math.Min(1, f.Alpha * v + f.Beta)),
        _ => v * Math.Max(0, Math.Min(1, v / 6 + 0.5)),
    }).ToArray();
}
