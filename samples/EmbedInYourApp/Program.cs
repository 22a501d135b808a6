// An app that embeds NativeIg (the README's "Library" snippet, runnable): which pixels made the model
// say what it says? CPU only: this app references no GPU package.
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors.IO;

string imagePath = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "giant_panda.jpg");
string outDir = args.Length > 1 ? args[1] : "explanation";

using var model = GoogLeNet.Load(WeightsResolver.Resolve());      // $NATIVEIG_WEIGHTS, weights/, or the user cache
using var image = ImageLoader.LoadForModel(imagePath);           // [224, 224, 3] RGB in [0, 1]

var ig = new IntegratedGradients(model);                         // any IDifferentiableModel; safe to share between threads
using var result = ig.Attribute(image, options: IgOptions.Default with { Steps = 50, Threads = 2 }); // black baseline, top class

var labels = ImageNetLabels.BuiltIn;
Console.WriteLine($"{labels[result.Target]}: F(x) = {result.FInput:F4}; Σ attributions {result.Sum:F4} " +
                  $"vs F(x) − F(x′) {result.FInput - result.FBaseline:F4} (delta {result.Delta:+0.0000;-0.0000})");
using var baseline = Baselines.Black(224, 224, 3);
var files = ExplanationFiles.Write(outDir, result, image, baseline, labels[result.Target]);
Console.WriteLine($"wrote {files.Figure} and the rest of {outDir}/");
