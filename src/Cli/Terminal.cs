using System.Text;

namespace NativeIg.Cli;

/// <summary>Text from outside (file names, messages quoting them) made safe to print on a terminal.</summary>
internal static class Terminal
{
    /// <summary>
    /// <paramref name="text"/> with control characters (an ESC starting a terminal escape sequence, a
    /// carriage return that overwrites the line, a bell) shown as <c>\xNN</c>; new lines and tabs stay.
    /// </summary>
    public static string Safe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(IsUnsafe)) return text;
        var safe = new StringBuilder(text.Length + 16);
        foreach (char c in text)
            if (IsUnsafe(c)) safe.Append($"\\x{(int)c:X2}");
            else safe.Append(c);
        return safe.ToString();
    }

    private static bool IsUnsafe(char c) => c != '\n' && c != '\t' && (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E');
}
