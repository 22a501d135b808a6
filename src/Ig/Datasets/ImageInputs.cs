namespace NativeIg.Ig;

/// <summary>One image of a run: where it is read from, and the name that keys its outputs and report line.</summary>
/// <param name="Path">The file to read.</param>
/// <param name="Name">A stable relative name (forward slashes): the output folder under the run's folder, the report's key, what shards hash.</param>
public sealed record ImageInput(string Path, string Name);

/// <summary>Expands what a user names — files, folders (recursive), globs — into a sorted, de-duplicated image list.</summary>
public static class ImageInputs
{
    /// <summary>The extensions a folder or glob contributes (a file named on its own is taken whatever its extension).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".npy"];

    /// <summary>
    /// Files as given; a folder's image files at any depth (named by the folder — as given when relative,
    /// its own name when absolute — plus their path inside it); a glob (<c>*</c>, <c>?</c> in the last part:
    /// <c>photos/*.jpg</c>). Sorted by name, each once; two different files that would get one name are an
    /// <see cref="ArgumentException"/>, a glob that matches nothing a <see cref="FileNotFoundException"/>.
    /// </summary>
    public static IReadOnlyList<ImageInput> Expand(IEnumerable<string> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var byName = new SortedDictionary<string, ImageInput>(StringComparer.Ordinal);
        void Add(string path, string name)
        {
            if (byName.TryGetValue(name, out var other) && Path.GetFullPath(other.Path) != Path.GetFullPath(path))
                throw new ArgumentException($"{other.Path} and {path} would both be named '{name}' in the run; give them from folders with different names.");
            byName.TryAdd(name, new ImageInput(path, name));
        }
        foreach (var spec in specs)
        {
            if (Directory.Exists(spec))
            {
                foreach (var file in Directory.EnumerateFiles(spec, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
                    if (IsImage(file)) Add(file, Normalize(Path.Combine(NameOf(spec), Path.GetRelativePath(spec, file))));
            }
            else if (spec.IndexOfAny(['*', '?']) >= 0)
            {
                var folder = Path.GetDirectoryName(spec) is { Length: > 0 } d ? d : ".";
                if (folder.IndexOfAny(['*', '?']) >= 0) throw new ArgumentException($"{spec}: wildcards are supported in the file name only.");
                if (!Directory.Exists(folder)) throw new FileNotFoundException($"{spec}: the folder {folder} does not exist.");
                int before = byName.Count;
                foreach (var file in Directory.EnumerateFiles(folder, Path.GetFileName(spec)))
                    if (IsImage(file)) Add(file, Normalize(Path.Combine(NameOf(folder), Path.GetFileName(file))));
                if (byName.Count == before) throw new FileNotFoundException($"{spec}: no image matches.");
            }
            else Add(spec, Normalize(Path.IsPathRooted(spec) ? Path.GetFileName(spec) : spec));
        }
        return byName.Values.ToArray();
    }

    /// <summary>A folder's name in the run: as given when relative ("photos/2024"), its own name when absolute ("/data/photos" → "photos").</summary>
    private static string NameOf(string folder) =>
        Path.IsPathRooted(folder) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) is { Length: > 0 } n ? n : "root" : folder;

    private static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>A relative, forward-slash name without "./" or ".." parts, usable as a folder name.</summary>
    internal static string Normalize(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").Select(p => p == ".." ? "_up_" : p);
        var name = string.Join('/', parts);
        return name.Length == 0 ? "image" : name;
    }
}

/// <summary>
/// A deterministic 1/N of the inputs for shard K: an image belongs to shard FNV-1a(name) mod N, so the
/// split depends on the names only (not on their order, the machine or the run), and N shards together
/// cover every image once.
/// </summary>
/// <param name="Index">K, from 0.</param>
/// <param name="Count">N.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole input (shard 0 of 1).</summary>
    public static Shard All => new(0, 1);

    /// <summary>Whether <paramref name="name"/> belongs to this shard.</summary>
    public bool Owns(string name)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 1099511628211;
        return (int)(hash % (ulong)Count) == Index;
    }

    /// <summary>"K/N" with 0 ≤ K &lt; N ≤ 100000; an <see cref="ArgumentException"/> otherwise.</summary>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int k) && int.TryParse(parts[1], out int n) && n is >= 1 and <= 100_000 && k >= 0 && k < n)
            return new Shard(k, n);
        throw new ArgumentException($"A shard is K/N with 0 ≤ K < N ≤ 100000 (e.g. 0/4), got '{text}'.");
    }

    /// <summary>
    /// The shard a batch scheduler assigned: a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (with
    /// <paramref name="shards"/> as N), else a Slurm job array's SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT
    /// (task ids from SLURM_ARRAY_TASK_MIN on); null when neither is set.
    /// </summary>
    public static Shard? FromEnvironment(int? shards, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("JOB_COMPLETION_INDEX") is { } index)
        {
            if (shards is null) throw new ArgumentException("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the number of shards (the Job's completions) too.");
            return Parse($"{index}/{shards}");
        }
        if (environment("SLURM_ARRAY_TASK_ID") is { } task && environment("SLURM_ARRAY_TASK_COUNT") is { } count)
        {
            int min = int.TryParse(environment("SLURM_ARRAY_TASK_MIN"), out int m) ? m : 0;
            if (!int.TryParse(task, out int id)) throw new ArgumentException($"SLURM_ARRAY_TASK_ID is '{task}', not a number.");
            return Parse($"{id - min}/{count}");
        }
        return null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
