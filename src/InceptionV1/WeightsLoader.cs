using System.Security.Cryptography;
using NativeIg.Autodiff;
using NativeIg.Tensors;

using NativeIg.Tensors.IO;

namespace NativeIg.InceptionV1;

/// <summary>
/// Builds a <see cref="GoogLeNet"/> from a caffemodel: verifies the checksum, reads every layer,
/// matches the 58 parameter layers by name, checks each blob's shape and converts Caffe's layouts
/// (conv OIHW → HWIO, InnerProduct [out, in] → [in, out]). Nothing is half-loaded: any problem
/// throws before a model exists.
/// </summary>
public static class WeightsLoader
{
    /// <summary>The weights' file name, as the BVLC model zoo names it.</summary>
    public const string FileName = "bvlc_googlenet.caffemodel";

    /// <summary>SHA-256 of the BVLC GoogLeNet caffemodel this project is tested with (weights/SHA256SUMS).</summary>
    public const string KnownSha256 = "0044e9b488ccb5cc6962ed1a841b85f9f33012f242eb8f596d5071189657a2db";

    /// <summary>SHA-1 the BVLC model zoo publishes for its own bvlc_googlenet.caffemodel (with the auxiliary classifiers).</summary>
    public const string OfficialSha1 = "405fc5acd08a3bb12de8ee5e23a96bec22f08204";

    /// <summary>Loads a caffemodel file (at most 1 GiB); with <paramref name="verifyChecksum"/> a file of the standard name or with a SHA256SUMS entry must match its checksum. Malformed files are a <see cref="WeightsFormatException"/> naming the file and the place.</summary>
    public static GoogLeNet Load(string path, bool verifyChecksum = true)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}. {WeightsResolver.HowToGetWeights}", path);
        var bytes = BoundedFile.ReadAll(path, CaffeModelReader.MaxFileBytes, "caffemodel", m => new WeightsFormatException(m));
        if (verifyChecksum) VerifyChecksum(path, bytes);
        return FromLayers(CaffeModelReader.Read(bytes, path), path);
    }

    /// <summary>
    /// Weights from memory (a download, an embedded resource); <paramref name="source"/> names them in
    /// errors. With <paramref name="verifyChecksum"/> the bytes must be one of the two known GoogLeNet
    /// files; pass false for weights of your own.
    /// </summary>
    public static GoogLeNet Load(byte[] bytes, string source = "weights", bool verifyChecksum = true)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.LongLength > CaffeModelReader.MaxFileBytes)
            throw new WeightsFormatException($"{source}: {bytes.LongLength:N0} bytes, over the {CaffeModelReader.MaxFileBytes:N0}-byte limit for a caffemodel.");
        if (verifyChecksum && !IsKnownFile(bytes, out var sha256))
            throw new WeightsFormatException($"{source}: SHA-256 mismatch: expected {KnownSha256} (or the official file's SHA-1 {OfficialSha1}), got {sha256}. " +
                "The bytes are damaged or a different model; load them without the check (verifyChecksum: false) if you mean to use other weights.");
        return FromLayers(CaffeModelReader.Read(bytes, source), source);
    }

    /// <summary>Weights read from a stream to its end (at most the caffemodel size limit); see <see cref="Load(byte[], string, bool)"/>.</summary>
    public static GoogLeNet Load(Stream stream, string source = "weights stream", bool verifyChecksum = true) =>
        Load(BoundedFile.ReadAll(stream, CaffeModelReader.MaxFileBytes, source, m => new WeightsFormatException(m)), source, verifyChecksum);

    private static bool IsKnownFile(byte[] bytes, out string sha256)
    {
        sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return sha256 == KnownSha256 || Convert.ToHexStringLower(SHA1.HashData(bytes)) == OfficialSha1;
    }

    /// <summary>A SHA256SUMS line for this file in its own folder, if there is one.</summary>
    public static string? ListedSha256(string path)
    {
        string name = Path.GetFileName(path);
        string sums = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "SHA256SUMS");
        if (!File.Exists(sums)) return null;
        // Bounded like every other input: a FIFO or a huge file named SHA256SUMS must not block or exhaust memory.
        var text = System.Text.Encoding.UTF8.GetString(BoundedFile.ReadAll(sums, 1 << 20, "SHA256SUMS", m => new WeightsFormatException(m)));
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1].TrimStart('*').Trim() == name) return parts[0].ToLowerInvariant();
        }
        return null;
    }

    /// <summary>
    /// Accepts the file when it is one of the two known GoogLeNet files (the tested re-serialisation or
    /// the official BVLC download) or matches its SHA256SUMS entry. A file with neither an entry nor the
    /// standard name is someone's own weights: not checked.
    /// </summary>
    private static void VerifyChecksum(string path, byte[] bytes)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var listed = ListedSha256(path);
        if (sha256 == KnownSha256 || sha256 == listed) return;
        if (Convert.ToHexStringLower(SHA1.HashData(bytes)) == OfficialSha1) return;
        if (listed is null && Path.GetFileName(path) != FileName) return;
        var expected = listed is null ? $"SHA-256 {KnownSha256} (or the official file's SHA-1 {OfficialSha1})" : $"SHA-256 {listed} (from SHA256SUMS)";
        throw new WeightsFormatException(
            $"{path}: SHA-256 mismatch: expected {expected}, got {sha256}. The file is damaged or a different model; " +
            $"fetch it again (`nativeig weights fetch`, or `bash weights/fetch.sh` in a clone), or load it without the check (verifyChecksum: false) if you mean to use other weights.");
    }

    internal static GoogLeNet FromLayers(IReadOnlyList<CaffeLayer> layers, string source)
    {
        var byName = new Dictionary<string, CaffeLayer>();
        foreach (var layer in layers)
            if (!byName.TryAdd(layer.Name, layer) && layer.Blobs.Count > 0 | byName[layer.Name].Blobs.Count > 0)
                throw new WeightsFormatException($"{source}: two layers are named '{layer.Name}'; which one holds the weights is ambiguous.");
        var result = new Dictionary<string, (Variable, Variable)>();
        var missing = GoogLeNet.ParameterLayers.Where(l => !byName.ContainsKey(l.Name)).Select(l => l.Name).ToList();
        if (missing.Count > 0)
            throw new WeightsFormatException($"{source}: missing layer{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} (BVLC GoogLeNet needs {GoogLeNet.ParameterLayers.Count} parameter layers).");
        foreach (var (name, kernel, inputs, outputs) in GoogLeNet.ParameterLayers)
        {
            var layer = byName[name];
            if (layer.Blobs.Count != 2)
                throw new WeightsFormatException($"{source}: layer '{name}' has {layer.Blobs.Count} blobs; expected 2 (weights and bias).");
            var weight = layer.Blobs[0];
            var bias = layer.Blobs[1];
            int[] expectedWeight = kernel == 0 ? [outputs, inputs] : [outputs, inputs, kernel, kernel];
            RequireShape(source, name, "weights", weight.Shape, expectedWeight);
            RequireShape(source, name, "bias", bias.Shape, [outputs]);
            RequireFinite(source, name, "weights", weight.Data);
            RequireFinite(source, name, "bias", bias.Data);
            var w = kernel == 0 ? TransposeMatrix(weight.Data, outputs, inputs) : OihwToHwio(weight.Data, outputs, inputs, kernel);
            var b = Tensor.FromSpan(bias.Data, outputs);
            result[name] = (Variable.Parameter(w, name + "/weights"), Variable.Parameter(b, name + "/bias"));
        }
        return new GoogLeNet(result);
    }

    /// <summary>A NaN or infinity in a parameter poisons every output ("tench: NaN%"): refused with its place.</summary>
    private static void RequireFinite(string source, string layer, string blob, float[] values)
    {
        int at = System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude<float>(values);
        if (at < 0 || float.IsFinite(values[at])) return;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new WeightsFormatException($"{source}: layer '{layer}' {blob} hold {values[i]} at index {i}; weights must be finite numbers.");
    }

    private static void RequireShape(string source, string layer, string blob, int[] actual, int[] expected)
    {
        // Legacy 4-D blobs pad small shapes with leading 1s (bias [1, 1, 1, C]).
        static IEnumerable<int> Strip(int[] s) => s.SkipWhile((d, i) => d == 1 && i < s.Length - 1);
        if (!Strip(actual).SequenceEqual(Strip(expected)))
            throw new WeightsFormatException($"{source}: layer '{layer}' {blob} have shape [{string.Join(", ", actual)}]; expected [{string.Join(", ", expected)}].");
    }

    /// <summary>Caffe [CO, CI, KH, KW] → our [KH, KW, CI, CO].</summary>
    private static Tensor OihwToHwio(float[] src, int co, int ci, int k)
    {
        var t = Tensor.Uninitialized(k, k, ci, co);
        var dst = t.Span;
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ci; i++)
                for (int y = 0; y < k; y++)
                    for (int x = 0; x < k; x++)
                        dst[((y * k + x) * ci + i) * co + o] = src[((o * ci + i) * k + y) * k + x];
        return t;
    }

    /// <summary>Caffe InnerProduct [out, in] → our [in, out].</summary>
    private static Tensor TransposeMatrix(float[] src, int rows, int cols)
    {
        var t = Tensor.Uninitialized(cols, rows);
        var dst = t.Span;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
        return t;
    }
}

/// <summary>
/// Finds the weights file: explicit path, then NATIVEIG_WEIGHTS, then a weights/ folder (the working
/// directory and the application's, with their parents), then the per-user cache that
/// `nativeig weights fetch` fills.
/// </summary>
public static class WeightsResolver
{
    /// <summary>The environment variable that names the weights file: NATIVEIG_WEIGHTS.</summary>
    public const string EnvironmentVariable = "NATIVEIG_WEIGHTS";

    /// <summary>What to do when no weights are found (used in the resolver's message).</summary>
    public const string HowToGetWeights =
        "Get the BVLC GoogLeNet weights with `nativeig weights fetch` (into the per-user cache) or `bash weights/fetch.sh` " +
        "(from the project root, into weights/); both verify the checksum. Or give the file's path, or set NATIVEIG_WEIGHTS=PATH.";

    /// <summary>The per-user cache: $XDG_CACHE_HOME/nativeig, else ~/.cache/nativeig (on every OS; %LOCALAPPDATA% when there is no home).</summary>
    public static string CacheDirectory
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "nativeig");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return string.IsNullOrEmpty(home)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "nativeig")
                : Path.Combine(home, ".cache", "nativeig");
        }
    }

    /// <summary>The weights file to use: <paramref name="explicitPath"/>; else $NATIVEIG_WEIGHTS; else weights/bvlc_googlenet.caffemodel in the current folder, the application's folder or their parents; else the per-user cache. A <see cref="FileNotFoundException"/> lists where it looked and how to get the weights.</summary>
    public static string Resolve(string? explicitPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            if (!File.Exists(explicitPath)) throw new FileNotFoundException($"The weights file {explicitPath} does not exist.", explicitPath);
            return explicitPath;
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (!File.Exists(fromEnvironment)) throw new FileNotFoundException($"{EnvironmentVariable} points to {fromEnvironment}, which does not exist.", fromEnvironment);
            return fromEnvironment;
        }
        foreach (var dir in SearchDirectories())
        {
            var candidate = Path.Combine(dir, "weights", WeightsLoader.FileName);
            if (File.Exists(candidate)) return candidate;
        }
        var cached = Path.Combine(CacheDirectory, WeightsLoader.FileName);
        if (File.Exists(cached)) return cached;
        throw new FileNotFoundException($"No weights found (looked at {EnvironmentVariable}, weights/{WeightsLoader.FileName} in the current directory and its parents, and {cached}). {HowToGetWeights}");
    }

    /// <summary>The path <see cref="Resolve"/> would return, or null where it would throw (to look for labels beside it).</summary>
    public static string? TryResolve(string? explicitPath = null)
    {
        try { return Resolve(explicitPath); }
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>The current directory and the application's directory, each with its parents.</summary>
    public static IEnumerable<string> SearchDirectories()
    {
        var seen = new HashSet<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (seen.Add(dir.FullName)) yield return dir.FullName;
    }
}
