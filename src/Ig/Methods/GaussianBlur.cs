using System.Numerics.Tensors;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// The Gaussian blur Blur IG's path and XRAI's segmentation use: scipy.ndimage.gaussian_filter's
/// definition (kernel exp(−t²/2σ²) normalised over |t| ≤ ⌊4σ + ½⌋, edges mirrored "d c b a | a b c d | d c b a",
/// the mirror repeating when the kernel is wider than the image), over the two spatial axes of an
/// [H, W, C] image, channels apart. Each axis is one matrix B (n × n) with the mirrored taps folded in,
/// so a pass is rows += B[i, j]·row j, a vectorised multiply-add over the band, or one GEMM when the band is
/// wide; <see cref="Reference"/> is the plain sum.
/// </summary>
public static class GaussianBlur
{
    /// <summary>The blurred image [H, W, C]; σ = 0 returns a copy.</summary>
    public static Tensor Blur(Tensor image, double sigma)
    {
        ArgumentNullException.ThrowIfNull(image);
        RequireImage(image, sigma);
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        // Rows of [H, W·C] mix along H; the transposed [W, H·C] mix along W.
        using var flat = image.Reshape(h, w * c);
        using var vertical = Pass(flat, h, w * c, Taps(h, sigma));
        using var transposed = Transpose(vertical.Span, h, w, c);
        using var horizontal = Pass(transposed, w, h * c, Taps(w, sigma));
        return Transpose(horizontal.Span, w, h, c); // back to [H, W, C]
    }

    /// <summary>The same blur as a direct sum over mirrored neighbours, in float64 (the tests' reference).</summary>
    internal static Tensor Reference(Tensor image, double sigma)
    {
        RequireImage(image, sigma);
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        var kernel = Kernel(sigma);
        int radius = kernel.Length / 2;
        var x = image.Span;
        var vertical = new double[x.Length];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int k = 0; k < c; k++)
                {
                    double sum = 0;
                    for (int t = -radius; t <= radius; t++) sum += kernel[t + radius] * x[(Mirror(i + t, h) * w + j) * c + k];
                    vertical[(i * w + j) * c + k] = sum;
                }
        var result = Tensor.Uninitialized(h, w, c);
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int k = 0; k < c; k++)
                {
                    double sum = 0;
                    for (int t = -radius; t <= radius; t++) sum += kernel[t + radius] * vertical[(i * w + Mirror(j + t, w)) * c + k];
                    result[(i * w + j) * c + k] = (float)sum;
                }
        return result;
    }

    /// <summary>The normalised 1-D kernel, 2⌊4σ + ½⌋ + 1 taps (one tap of 1 for σ = 0).</summary>
    internal static double[] Kernel(double sigma)
    {
        int radius = (int)(4 * sigma + 0.5);
        var kernel = new double[2 * radius + 1];
        double sum = 0;
        for (int t = -radius; t <= radius; t++) sum += kernel[t + radius] = sigma == 0 ? 1 : Math.Exp(-0.5 * t * t / (sigma * sigma));
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= sum;
        return kernel;
    }

    /// <summary>Where index p lands on [0, n) after mirroring about the edges (period 2n).</summary>
    internal static int Mirror(int p, int n)
    {
        int q = p % (2 * n);
        if (q < 0) q += 2 * n;
        return q < n ? q : 2 * n - 1 - q;
    }

    /// <summary>B[i, j]: the kernel's taps folded onto the n positions of one axis, and each row's band [first, last].</summary>
    private static (float[] Matrix, int[] First, int[] Last) Taps(int n, double sigma)
    {
        var kernel = Kernel(sigma);
        int radius = kernel.Length / 2;
        var folded = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int t = -radius; t <= radius; t++) folded[i * n + Mirror(i + t, n)] += kernel[t + radius];
        var matrix = new float[n * n];
        var first = new int[n];
        var last = new int[n];
        for (int i = 0; i < n; i++)
        {
            first[i] = n; last[i] = -1;
            for (int j = 0; j < n; j++)
            {
                matrix[i * n + j] = (float)folded[i * n + j];
                if (folded[i * n + j] != 0) { first[i] = Math.Min(first[i], j); last[i] = j; }
            }
        }
        return (matrix, first, last);
    }

    /// <summary>out[i, :] = Σ_j B[i, j]·in[j, :] for a [rows, width] block (read in place, not copied).</summary>
    private static Tensor Pass(Tensor input, int rows, int width, (float[] Matrix, int[] First, int[] Last) taps)
    {
        long bandTaps = 0;
        for (int i = 0; i < rows; i++) bandTaps += Math.Max(0, taps.Last[i] - taps.First[i] + 1);
        // A wide band (Blur IG's large σ's: σ = 50 fills the whole 224 × 224 matrix) is a dense product, which the
        // GEMM kernel runs at the model's rate; row-by-row multiply-adds are memory-bound there and only win
        // on a narrow band, where they skip the zeros GEMM would multiply.
        if (bandTaps > 16L * rows)
        {
            var product = Tensor.Uninitialized(rows, width);
            NativeIg.Tensors.Gemm.Multiply(rows, width, rows, taps.Matrix, rows, false, input.Span, width, false, product.Span, width);
            return product;
        }
        var output = Tensor.Zeros(rows, width);
        var options = new ParallelOptions { MaxDegreeOfParallelism = NativeIg.Tensors.ComputeThreads.Current };
        Parallel.For(0, rows, options, i =>
        {
            var source = input.Span;
            var row = output.Span.Slice(i * width, width);
            for (int j = taps.First[i]; j <= taps.Last[i]; j++)
            {
                float weight = taps.Matrix[i * rows + j];
                if (weight != 0) TensorPrimitives.MultiplyAdd(source.Slice(j * width, width), weight, row, row);
            }
        });
        return output;
    }

    /// <summary>[a, b, c] → [b, a, c].</summary>
    private static Tensor Transpose(ReadOnlySpan<float> x, int a, int b, int c)
    {
        var result = Tensor.Uninitialized(b, a, c);
        var r = result.Span;
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
            {
                int from = (i * b + j) * c, to = (j * a + i) * c;
                for (int k = 0; k < c; k++) r[to + k] = x[from + k];
            }
        return result;
    }

    private static void RequireImage(Tensor image, double sigma)
    {
        if (image.Rank != 3) throw new ArgumentException($"GaussianBlur needs an image [H, W, C]; got {image.ShapeString}.", nameof(image));
        if (!(sigma >= 0) || !double.IsFinite(sigma) || sigma > 10_000)
            throw new ArgumentOutOfRangeException(nameof(sigma), $"σ must be a finite number in 0…10000, got {sigma}.");
    }
}
