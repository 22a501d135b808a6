global using NativeIg.Tensors;
