using System.Globalization;
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Onnx;
using NativeIg.Tensors;

namespace NativeIg.Cli;

/// <summary>
/// The model a command runs: GoogLeNet from its caffemodel (the default), or any ONNX CNN given by
/// --model with its preprocessing (--input-size, --mean, --std, --bgr, --scale, else the sidecar
/// model.onnx.json, else ImageNet's), and labels to match its outputs.
/// </summary>
internal sealed record ModelChoice(IDifferentiableModel Model, int InputSize, ImageNetLabels Labels, string Name)
{
    /// <summary>What the terminal and the reports rank: class probabilities, or a model of values' own outputs.</summary>
    public Tensor Scores(Tensor images) => OutputsAreValues ? Model.PredictOutputs(images) : Model.PredictProbabilities(images);

    /// <summary>
    /// Whether the outputs are values, not classes: an ONNX model with neither a softmax of its own nor
    /// 1000 ImageNet outputs nor --labels (a featurizer's pooled features). A softmax over such outputs is
    /// no probability, so its scores are the raw outputs, shown as values and explained as "logit".
    /// </summary>
    public bool OutputsAreValues { get; init; }

    /// <summary>One output's score as the terminal shows it: a class probability, or an output value.</summary>
    public string Show(float score) => OutputsAreValues ? score.ToString("G6", CultureInfo.InvariantCulture) : Program.Percent(score);

    /// <summary>
    /// The output IG explains: the option as given; for a model of values, "logit" (its raw output) by
    /// default, and "probability" refused, since there is no class distribution to take it from.
    /// </summary>
    public TargetOutput OutputFor(Arguments a, TargetOutput parsed)
    {
        if (!OutputsAreValues) return parsed;
        if (a.Value("--output") is not null && parsed == TargetOutput.Probability)
            throw new UsageException($"--output probability: {Name} has {Model.Classes} outputs and no class labels (a featurizer's features, no softmax in the file), " +
                "so a softmax over them is no probability. Its outputs are explained as values (--output logit, the default for it); give --labels FILE if they are classes.");
        return TargetOutput.Logit;
    }

    public static readonly string[] ValueOptions = ["--model", "--input-size", "--mean", "--std", "--scale", "--output-name", "--mean-image"];
    public static readonly string[] Flags = ["--bgr"];

    /// <summary>Checks the ONNX options without reading anything (so bad arguments exit 2 before any work).</summary>
    public static OnnxPreprocessing? ParsePreprocessing(Arguments a, OnnxPreprocessing? fromSidecar)
    {
        bool any = ValueOptions.Skip(1).Any(o => a.Value(o) is not null) || a.Flag("--bgr");
        if (a.Value("--model") is null)
        {
            if (any) throw new UsageException("--input-size, --mean, --std, --scale, --bgr, --mean-image and --output-name describe an ONNX model: give --model PATH.onnx.");
            return null;
        }
        var p = fromSidecar ?? new OnnxPreprocessing();
        if (a.Value("--input-size") is { } size)
        {
            var parts = Numbers(size, "--input-size");
            if (parts.Length is not (1 or 2) || parts.Any(v => v is < 1 or > 8192 || v != Math.Floor(v)))
                throw new UsageException($"--input-size needs H or H,W (whole numbers in 1…8192), got '{size}'.");
            if (parts.Length == 2 && parts[0] != parts[1]) throw new UsageException("--input-size: only square inputs are supported yet (images are resized with padding to a square).");
            p = p with { Height = (int)parts[0], Width = (int)parts[^1] };
        }
        if (a.Value("--mean") is { } mean) p = p with { Mean = Three(mean, "--mean") };
        if (a.Value("--std") is { } std) p = p with { Std = Three(std, "--std") };
        if (a.Value("--scale") is { } scale)
            p = p with { Scale = Numbers(scale, "--scale") is [var one] ? (float)one : throw new UsageException($"--scale needs one number (what pixels in [0, 1] are multiplied by), got '{scale}'.") };
        if (a.Flag("--bgr")) p = p with { Bgr = true };
        try { p.ChannelAffine(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return p;
    }

    /// <summary>The ONNX model's preprocessing: the sidecar's, then the options over it; the mean image is read here, once (the argument check reads no files).</summary>
    public static OnnxPreprocessing PreprocessingFor(Arguments a, string modelPath)
    {
        var preprocessing = ParsePreprocessing(a, OnnxPreprocessing.FromSidecar(modelPath))!;
        return a.Value("--mean-image") is { } meanImage ? preprocessing with { MeanImage = OnnxPreprocessing.ReadMeanImage(meanImage) } : preprocessing;
    }

    /// <summary>The model the options name (an ONNX file, else GoogLeNet), on <paramref name="device"/>, with its labels.</summary>
    /// <param name="a">The command's arguments.</param>
    /// <param name="device">Where to run (null: the CPU kernels).</param>
    /// <param name="imageNetLabels">GoogLeNet's labels when the caller has read them already (read otherwise).</param>
    public static ModelChoice Load(Arguments a, ComputeDevice? device, ImageNetLabels? imageNetLabels = null)
    {
        if (a.Value("--model") is { } path)
        {
            if (a.Value("--weights") is not null) throw new UsageException("Give --model (an ONNX file) or --weights (GoogLeNet's caffemodel), not both.");
            if (!File.Exists(path)) throw new FileNotFoundException($"Model file not found: {path}", path);
            var preprocessing = PreprocessingFor(a, path);
            var onnx = OnnxModel.Load(path, preprocessing, a.Value("--output-name"));
            if (onnx.Preprocessing.Height != onnx.Preprocessing.Width) throw new UsageException("Only square model inputs are supported yet.");
            var model = device is null ? onnx : onnx.ToDevice(device);
            var labels = ImageNetLabels.ForClasses(onnx.Classes, a.Value("--labels"));
            bool values = !onnx.EndsInSoftmax && onnx.Classes != GoogLeNet.ClassCount && a.Value("--labels") is null;
            if (values)
                labels = ImageNetLabels.FromNames(Enumerable.Range(0, onnx.Classes).Select(i => $"output {i}"));
            return new ModelChoice(model, onnx.Preprocessing.Height, labels, Path.GetFileName(path))
            {
                OutputsAreValues = values,
            };
        }
        // The labels first: a bad labels file fails before the weights load.
        var imageNet = imageNetLabels ?? ImageNetLabels.LoadDefault(a.Value("--labels"), WeightsResolver.TryResolve(a.Value("--weights")));
        var googLeNet = Program.LoadModel(a, device);
        return new ModelChoice(googLeNet, GoogLeNet.InputSize, imageNet, "GoogLeNet");
    }

    private static double[] Numbers(string text, string option)
    {
        var parts = text.Split(',');
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new UsageException($"{option} needs numbers separated by commas, got '{text}'.");
        return values;
    }

    private static float[] Three(string text, string option)
    {
        var values = Numbers(text, option);
        if (values.Length != 3) throw new UsageException($"{option} needs three values (one per colour channel, in the model's order), got {values.Length}.");
        return values.Select(v => (float)v).ToArray();
    }
}
