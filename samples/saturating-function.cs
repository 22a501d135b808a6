#:project ../src/Ig/NativeIg.Ig.csproj
// A single-file .NET 10 program for students: the TensorFlow tutorial's toy f(x) = min(x, 0.8) through
// NativeIg's tape. Run it with `dotnet run samples/saturating-function.cs` (no project file needed).
//
// The gradient of f is 1 below 0.8 and 0 above, so at x = 1 a plain gradient says "x does not matter",
// although x moved f from 0 to 0.8. Integrating the gradient along the straight path 0 → 1
// (Integrated Gradients) gives all of it back: completeness. The last lines draw the picture that
// docs/backprop.md shows (docs/images/saturating-function.png, or the path given as the argument).
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.Tensors;

// 1. One forward and one backward per point: f(x) and df/dx at 101 points of [0, 1].
var xs = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
var points = xs.Select(Evaluate).ToArray();
var values = points.Select(p => p.Value).ToArray();
var gradients = points.Select(p => p.Gradient).ToArray();
Console.WriteLine($"df/dx at x = 0.5: {Evaluate(0.5).Gradient}, at x = 1.0: {Evaluate(1.0).Gradient}");

// 2. Integrated Gradients from x′ = 0 to x = 1 with the midpoint rule, m = 100 steps:
//    (x − x′)·∫₀¹ f′(x′ + α(x − x′)) dα ≈ (1/m)·Σ_k f′((k + ½)/m), which should be f(1) − f(0) = 0.8.
const int m = 100;
double integral = Enumerable.Range(0, m).Sum(k => Evaluate((k + 0.5) / m).Gradient) / m;
Console.WriteLine($"IG(x = 1, baseline 0) = {integral:F3}; f(1) − f(0) = {values[^1] - values[0]:F3}");

// 3. The picture: f and df/dx side by side, written to a temporary name and renamed.
string output = args.Length > 0 ? args[0] : Path.Combine("docs", "images", "saturating-function.png");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
var canvas = Visualization.FunctionAndGradientPlots(xs, values, gradients, "f(x) = min(x, 0.8)", "df/dx: 0 above 0.8 (saturated)");
string temporary = output + ".tmp";
canvas.SavePng(temporary);
File.Move(temporary, output, overwrite: true);
Console.WriteLine($"wrote {output}");

// f and df/dx at one point: the tape records the forward, Backward applies the chain rule.
static (double Value, double Gradient) Evaluate(double at)
{
    using var input = Tensor.FromSpan([(float)at], 1);
    using var tape = new Tape();
    var x = tape.Input(input);
    var y = tape.Minimum(x, 0.8f);   // forward: y = min(x, 0.8)
    double value = y.Value[0];
    tape.Backward(y);                // backward from dL/dy = 1, so x.Grad = dy/dx
    double gradient = x.Grad![0];
    x.Grad.Dispose();
    return (value, gradient);
}
