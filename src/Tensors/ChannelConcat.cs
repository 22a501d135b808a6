using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>Concatenation along the channel (last) axis of NHWC tensors, and its inverse for gradients.</summary>
public static class ChannelConcat
{
    /// <summary>y[..., offset_i : offset_i + C_i] = parts[i].</summary>
    public static void Forward(IReadOnlyList<Tensor> parts, Tensor y)
    {
        int total = CheckParts(parts, y, "Concat.Forward");
        int pixels = y.Length / total;
        var ys = y.Span;
        int offset = 0;
        foreach (var part in parts)
        {
            int c = part.Dim(part.Rank - 1);
            var src = part.Span;
            for (int px = 0; px < pixels; px++) src.Slice(px * c, c).CopyTo(ys.Slice(px * total + offset, c));
            offset += c;
        }
    }

    /// <summary>Gradient of concat: dParts[i] (+)= dy[..., offset_i : offset_i + C_i].</summary>
    public static void Backward(Tensor dy, IReadOnlyList<Tensor> dParts, bool accumulate = false)
    {
        CheckParts(dParts, dy, "Concat.Backward");
        int offset = 0;
        foreach (var part in dParts)
        {
            BackwardPart(dy, offset, part, accumulate);
            offset += part.Dim(part.Rank - 1);
        }
    }

    /// <summary>One part's share: dPart[..., C_part] (+)= dy[..., offset : offset + C_part].</summary>
    public static void BackwardPart(Tensor dy, int channelOffset, Tensor dPart, bool accumulate = false)
    {
        int total = dy.Dim(dy.Rank - 1), c = dPart.Dim(dPart.Rank - 1);
        if (channelOffset < 0 || channelOffset + c > total || dPart.Length / c != dy.Length / total)
            throw new ArgumentException($"Concat.Backward: a part of shape {dPart.ShapeString} at channel {channelOffset} does not fit the gradient {dy.ShapeString}.");
        int pixels = dy.Length / total;
        var dys = dy.Span;
        var dst = dPart.Span;
        for (int px = 0; px < pixels; px++)
        {
            var from = dys.Slice(px * total + channelOffset, c);
            var to = dst.Slice(px * c, c);
            if (accumulate) TensorPrimitives.Add(to, from, to);
            else from.CopyTo(to);
        }
    }

    private static int CheckParts(IReadOnlyList<Tensor> parts, Tensor y, string op)
    {
        if (parts.Count == 0) throw new ArgumentException($"{op}: nothing to concatenate.");
        int total = 0;
        foreach (var part in parts)
        {
            if (part.Rank != y.Rank)
                throw new ArgumentException($"{op}: part shape {part.ShapeString} and output shape {y.ShapeString} differ in rank.");
            for (int axis = 0; axis < y.Rank - 1; axis++)
                if (part.Dim(axis) != y.Dim(axis))
                    throw new ArgumentException($"{op}: part shape {part.ShapeString} and output shape {y.ShapeString} differ outside the channel axis.");
            total += part.Dim(part.Rank - 1);
        }
        if (total != y.Dim(y.Rank - 1))
            throw new ArgumentException($"{op}: parts hold {total} channels in all, the output shape {y.ShapeString} has {y.Dim(y.Rank - 1)}.");
        return total;
    }
}
