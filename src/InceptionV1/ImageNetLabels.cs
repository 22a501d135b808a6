using NativeIg.Tensors.IO;

namespace NativeIg.InceptionV1;

/// <summary>ImageNet class names in the model's order, from synset_words.txt or TensorFlow's ImageNetLabels.txt.</summary>
public sealed class ImageNetLabels
{
    private readonly string[] _names;

    private ImageNetLabels(string[] names) => _names = names;

    /// <summary>The number of labels.</summary>
    public int Count => _names.Length;

    /// <summary>The short display name ("fireboat", "giant panda").</summary>
    public string this[int index] => _names[index];

    /// <summary>
    /// Reads 1000 synset lines ("n03344393 fireboat, ...": the first name is kept) or TensorFlow's 1001
    /// lines (line 0 "background": line i+1 is class i).
    /// </summary>
    public static ImageNetLabels Load(string path) => FromLines(ReadLines(path), path);

    /// <summary>Reads a labels file from a stream (at most 16 MiB, UTF-8); <paramref name="source"/> names it in errors.</summary>
    public static ImageNetLabels Load(Stream stream, string source = "labels stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return FromLines(SplitLines(BoundedFile.ReadAll(stream, MaxBytes, source, m => new FormatException(m)), source), source);
    }

    /// <summary>
    /// The 1000 ImageNet class names in BVLC GoogLeNet's order, built into this assembly (Caffe's
    /// synset_words.txt), so classifying needs no labels file.
    /// </summary>
    public static ImageNetLabels BuiltIn => s_builtIn.Value;

    private static readonly Lazy<ImageNetLabels> s_builtIn = new(() =>
    {
        using var stream = typeof(ImageNetLabels).Assembly.GetManifestResourceStream("NativeIg.InceptionV1.synset_words.txt")
            ?? throw new InvalidOperationException("The built-in ImageNet labels are missing from NativeIg.InceptionV1 (a broken build).");
        return Load(stream, "built-in synset_words.txt");
    });

    private const int MaxBytes = 16 << 20;

    /// <summary>Labels from names given in order (output i is named <paramref name="names"/>[i]), for a model of any output count.</summary>
    public static ImageNetLabels FromNames(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var array = names.ToArray();
        if (array.Length == 0 || array.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Every output needs a non-blank name.", nameof(names));
        return new ImageNetLabels(array);
    }

    private static ImageNetLabels FromLines(string[] lines, string path)
    {
        if (lines.Length == GoogLeNet.ClassCount + 1 && lines[0].Trim() == "background")
            return new ImageNetLabels(lines.Skip(1).Select(l => l.Trim()).ToArray());
        if (lines.Length == GoogLeNet.ClassCount)
            return new ImageNetLabels(lines.Select(ShortName).ToArray());
        throw new FormatException($"{path}: expected {GoogLeNet.ClassCount} synset lines or {GoogLeNet.ClassCount + 1} TensorFlow labels starting with 'background'; found {lines.Length} lines.");
    }

    /// <summary>
    /// Labels for a model with <paramref name="classes"/> outputs: an ImageNet file for a 1000-class model
    /// (<paramref name="path"/> or the default search), any file of one label per line for another
    /// count, else "class 0", "class 1", … (a featurizer's features, say).
    /// </summary>
    public static ImageNetLabels ForClasses(int classes, string? path, string? weightsPath = null)
    {
        if (classes == GoogLeNet.ClassCount) return LoadDefault(path, weightsPath);
        if (string.IsNullOrWhiteSpace(path)) return new ImageNetLabels(Enumerable.Range(0, classes).Select(i => $"class {i}").ToArray());
        var lines = ReadLines(path).Select(l => l.Trim()).ToArray();
        if (lines.Length != classes) throw new FormatException($"{path}: {lines.Length} labels for a model with {classes} outputs; give one label per line.");
        return new ImageNetLabels(lines);
    }

    /// <summary>The non-blank lines of a labels file (bounded, text only).</summary>
    private static string[] ReadLines(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"Labels file not found: {path}", path);
        return SplitLines(BoundedFile.ReadAll(path, MaxBytes, "labels", m => new FormatException(m)), path);
    }

    private static string[] SplitLines(byte[] bytes, string source)
    {
        if (bytes.AsSpan().IndexOf((byte)0) >= 0) throw new FormatException($"{source}: not a text file (it holds NUL bytes); expected labels, one per line.");
        return System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToArray();
    }

    private static string ShortName(string line)
    {
        var text = line.Trim();
        int space = text.IndexOf(' ');
        if (space > 0 && text[0] == 'n' && text[1..space].All(char.IsDigit)) text = text[(space + 1)..];
        int comma = text.IndexOf(',');
        return (comma >= 0 ? text[..comma] : text).Trim();
    }

    /// <summary>Class index for a label name (case-insensitive, exact) or a number; null when unknown.</summary>
    public int? Find(string nameOrIndex)
    {
        if (int.TryParse(nameOrIndex, out int index)) return index >= 0 && index < Count ? index : null;
        for (int i = 0; i < _names.Length; i++)
            if (string.Equals(_names[i], nameOrIndex.Trim(), StringComparison.OrdinalIgnoreCase)) return i;
        return null;
    }

    /// <summary>
    /// Finds the labels file: <paramref name="explicitPath"/>; synset_words.txt beside the weights in use
    /// (<paramref name="weightsPath"/>); labels/ and weights/ folders up the working tree; ../shared/labels;
    /// the per-user cache; else the <see cref="BuiltIn"/> labels.
    /// </summary>
    public static ImageNetLabels LoadDefault(string? explicitPath = null, string? weightsPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return Load(explicitPath);
        if (!string.IsNullOrWhiteSpace(weightsPath) && Path.GetDirectoryName(Path.GetFullPath(weightsPath)) is { } weightsDir)
            foreach (var name in new[] { "synset_words.txt", "ImageNetLabels.txt" })
                if (File.Exists(Path.Combine(weightsDir, name))) return Load(Path.Combine(weightsDir, name));
        foreach (var dir in WeightsResolver.SearchDirectories())
            foreach (var candidate in new[] { "labels/synset_words.txt", "weights/synset_words.txt", "shared/labels/synset_words.txt", "../shared/labels/synset_words.txt" })
            {
                var path = Path.Combine(dir, candidate);
                if (File.Exists(path)) return Load(path);
            }
        var cached = Path.Combine(WeightsResolver.CacheDirectory, "synset_words.txt");
        if (File.Exists(cached)) return Load(cached);
        return BuiltIn;
    }
}
