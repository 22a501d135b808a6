namespace NativeIg.Cli;

internal static class Help
{
    public const string Main = """
        nativeig — Inception V1 (GoogLeNet) and Integrated Gradients in pure C#.

        Usage:
          nativeig classify IMAGE... [--top K] [--json]            top-K ImageNet labels per image
          nativeig explain [IMAGE] [--target LABEL|INDEX] ...      Integrated Gradients attributions and figures
          nativeig explain IMAGE --method ig|gradient|grad-x-input|smoothgrad|blur-ig|guided-ig|xrai
                                                                  another attribution method; --layer, --neuron for layers
          nativeig compare [IMAGE]                                every method side by side in one figure
          nativeig sanity [IMAGE] [--blocks N]                    cascading randomisation: does the map depend on the model?
          nativeig model PATH.onnx                                an ONNX model's inputs, outputs, ops, parameters
          nativeig weights fetch [--from DIR] [--to DIR]          get the weights and labels (checksum-verified)
          nativeig weights path                                   the weights file the commands would use
          nativeig explain IMAGE|DIR|GLOB|@LIST... [--out DIR] [--shard K/N] [--force]   many images: a report, a gallery, a dataset view
          nativeig merge DIR... [--out DIR]                       one report, gallery and dataset view over several runs (shards)
          nativeig completion bash|zsh|fish                       shell completion: source <(nativeig completion bash)

        Run 'nativeig COMMAND --help' for a command's options; 'nativeig --version' for the version and
        the instruction-set path the kernels take on this machine.
        Weights: --weights PATH, else $NATIVEIG_WEIGHTS, else weights/bvlc_googlenet.caffemodel, else the
        per-user cache ($XDG_CACHE_HOME/nativeig or ~/.cache/nativeig) that `nativeig weights fetch` fills.

        """;

    public const string Compare = """
        Usage: nativeig compare [IMAGE] [options]

        Explains one image with IG, SmoothGrad-IG, Blur IG, Guided IG and XRAI (or the --methods chosen) and
        draws them side by side (OUT/compare.png): the original, each method's Σ|attributions| clipped at the
        same percentile and scaled to [0, 1] under one colour bar, each titled with its completeness gap, and
        XRAI's top 30%. Prints each method's cost in path images (forward and backward passes of one image)
        before it starts, progress per batch, then each one's delta, cost and time. At the defaults: IG 51,
        SmoothGrad-IG 210, Blur IG 101, XRAI 102, and Guided IG at least 801 — its moves follow the gradients,
        so its cost depends on the image more than on M (1,673 on the fireboat at the default M, 1,241 at M = 20).

        Options:
          -t, --target LABEL|INDEX   class to explain (default: the top class)
          -m, --steps M          IG's steps and XRAI's per baseline (default 50); Blur IG takes 2M and Guided IG
                                 4M (the papers' 100 and 200 at the default), each SmoothGrad-IG copy 0.4M
          --methods LIST         which to run, comma-separated: ig, smoothgrad-ig, blur-ig, guided-ig, xrai (default: all)
          --noise-samples N      SmoothGrad-IG's noisy copies (default 10)
          --noise-sigma S        their σ as a fraction of the image's range (default 0.15)
          --noise-seed N         their seed (default 0)
          -b, --batch B          path images per forward/backward batch, 1…256 (default 32)
          --output KIND          probability (default) or logit
          -o, --out DIR          output folder (default ./ig-out/<image-name>/)
          --colormap NAME        inferno (default), viridis, diverging
          --clip PCT             the shared percentile clip (default 99)
          -j, --json             one JSON object on stdout
          -q, --quiet            no progress on stderr
          --model PATH.onnx      an ONNX model instead of GoogLeNet, with --input-size, --mean, --std, --bgr,
                                 --scale, --output-name, --mean-image as for explain
          --weights PATH         the caffemodel
          --labels PATH          the labels file
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto

        """;

    public const string Sanity = """
        Usage: nativeig sanity [IMAGE] [options]

        The model-randomisation sanity check of Adebayo et al. (2018) for GoogLeNet: re-draws the weights of
        the top blocks (the classifier, then inception_5b, 5a, …), one more block per step, explains the image
        with each randomised model, and prints Spearman's rank correlation with the trained model's map
        (of |attributions| and of the signed attributions, summed over channels). A method that explains
        the model shows rho falling well below 1; one that stays near 1 is showing the image, not the model.

        Options:
          -t, --target LABEL|INDEX   class to explain (default: the top class)
          --method NAME          ig (default), gradient or grad-x-input
          -m, --steps M          IG's steps (default 32)
          --blocks N             how many top blocks to randomise, one per step (default 4)
          --seed N               the random weights' seed (default 0)
          -b, --batch B          path images per forward/backward batch (default 32)
          -j, --json             one JSON object on stdout
          -q, --quiet            no progress on stderr
          --weights PATH         the caffemodel
          --labels PATH          the labels file
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto

        """;

    public const string Merge = """
        Usage: nativeig merge DIR... [--out DIR]

        Combines the image folders of several explain runs (the shards of one data set, run apart) into one
        report.jsonl, index.html and dataset/ view, written into --out (default: the first DIR). The pictures
        stay where they are; the gallery links to them.

        """;

    public const string Completion = """
        Usage: nativeig completion bash|zsh|fish

        Prints a script that makes the shell complete nativeig's commands, options and option values:
          bash:  source <(nativeig completion bash)      (or save it in ~/.local/share/bash-completion/completions/nativeig)
          zsh:   source <(nativeig completion zsh)
          fish:  nativeig completion fish | source

        """;

    public const string Model = """
        Usage: nativeig model PATH.onnx [--input-size H] [--mean a,b,c] [--std a,b,c] [--bgr] [--scale S]
                                        [--mean-image PATH] [--output-name NAME]

        Reads an ONNX model, builds it on the engine and prints its input and preprocessing, its output
        and class count, the op counts, the parameters and the multiply-adds per image. An op the engine
        does not have is an error that names every such node (exit 1), before any work.
        Preprocessing (how an RGB image in [0,1] becomes the model's input) comes from the options, else
        from a sidecar PATH.onnx.json, else ImageNet's mean and std on RGB [0,1].

        """;

    public const string Weights = """
        Usage: nativeig weights fetch [--from DIR] [--to DIR]
               nativeig weights path [--weights PATH]

        fetch puts bvlc_googlenet.caffemodel and synset_words.txt into the per-user cache
        ($XDG_CACHE_HOME/nativeig, else ~/.cache/nativeig) or --to DIR: copied from --from DIR when given
        (a folder holding them, e.g. a shared mirror), else downloaded (the BVLC model zoo, ~51 MB). The
        weights must match a known GoogLeNet checksum; each file is written to a temporary name and
        renamed only when complete. path prints the weights file classify and explain would use.

        """;

    public const string Classify = """
        Usage: nativeig classify IMAGE... [options]

        Classifies each image (JPEG, PNG, BMP, GIF, or a .npy [224, 224, 3] float32 array in [0,1]),
        resized with padding to 224×224 like TensorFlow's resize_with_pad. IMAGE `-` reads one image
        from standard input. Arguments may come from a file: @args.txt (one per line); after `--`
        every argument is an IMAGE.

        Options:
          --top K            labels to show per image (default 5)
          -j, --json         one JSON object per image on stdout
          --model PATH.onnx  explain/classify this ONNX model instead of GoogLeNet (see 'nativeig model --help')
          --input-size H     the model's square input size (default 224, or the sidecar's)
          --mean a,b,c       per-channel mean subtracted after --scale, in the model's channel order
          --std a,b,c        per-channel std divided by (default ImageNet's: 0.229,0.224,0.225)
          --bgr              the model takes blue, green, red (Caffe and CNTK exports)
          --scale S          multiply the [0,1] pixels by S first (255 for 0…255 models)
          --output-name NAME the graph output to use (default: the first)
          --mean-image PATH  a mean image [3, H, W] subtracted after --scale (.npy, or an ONNX file holding it)
          --weights PATH     the caffemodel (default: $NATIVEIG_WEIGHTS, then weights/bvlc_googlenet.caffemodel)
          --labels PATH      synset_words.txt or ImageNetLabels.txt (default: found beside the weights or in labels/)
          --skip-checksum       do not verify the weights' SHA-256
          --threads N        worker threads (default: all cores)
          --device NAME      cpu (default), cuda, opencl, ilgpu-cpu, or auto (CUDA, then OpenCL, then cpu)
          -h, --help         this help

        Exit codes: 0 success, 1 a failure (a bad image: the others are still classified), 2 bad arguments,
        130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

        """;

    public const string Explain = """
        Usage: nativeig explain [IMAGE] [options]

        Integrated Gradients for one image (default: fireboat.jpg from the folder $NATIVEIG_EXAMPLES names,
        else the built-in giant panda photo; `-` reads the image from standard input) against a baseline, with the completeness check Σattr vs F(x) − F(baseline).
        Arguments may come from a file: @args.txt (one per line); after `--` every argument is an IMAGE.

        Options:
          -t, --target LABEL|INDEX   class to explain, by name ("fireboat") or index (default: the top class)
          -m, --steps M          path steps, 1…1000000 (default 50)
          --auto-steps TOL       start at 50 steps and double until |delta| ≤ TOL·|F(x) − F(baseline)|, TOL in (0, 1]
          --max-steps N          limit for --auto-steps, 50…1000000 (default 1600)
          -b, --batch B          path images per forward/backward batch, 1…256 (default 32)
          --baseline SPEC        black (default), white, noise[:seed], blur[:sigma ≤ 1000], or an image PATH
          --rule RULE            trapezoid (default), left, right, middle, gauss-legendre
          --output KIND          probability (default) or logit
          -o, --out DIR          output folder (default ./ig-out/<image-name>/)
          --colormap NAME        inferno (default), viridis, diverging
          --clip PCT             clip the mask at this percentile of |attr| before scaling (default 99;
                                 100 gives the tutorial's exact, unclipped look)
          --signed               signed mask: positive and negative attributions in two colours
          -j, --json             one JSON object on stdout instead of text
          -q, --quiet            no progress and no hints on stderr (errors still go there)
          --method NAME          ig (default), gradient, grad-x-input, smoothgrad, blur-ig (100 steps from σ = 50),
                                 guided-ig (200 steps), xrai (regions from IG with black and white baselines),
                                 conductance (with --layer); see the README's "Methods"
          --noise-samples N      SmoothGrad around ig, gradient or grad-x-input: N noisy copies (smoothgrad: 50)
          --noise-sigma S        the noise's σ as a fraction of the image's range (default 0.15)
          --noise-seed N         the noise's seed (default 0): the same seed gives the same attributions
          --layer NAME           attribute to a layer's activations (e.g. inception_4d/output): layer IG, or
                                 conductance with --method conductance
          --neuron LAYER:CHANNEL which pixels drive one channel of a layer (its mean activation)
          --model PATH.onnx      explain this ONNX model instead of GoogLeNet (see 'nativeig model --help')
          --input-size H         the model's square input size (default 224, or the sidecar's)
          --mean a,b,c           per-channel mean subtracted after --scale, in the model's channel order
          --std a,b,c            per-channel std divided by (default ImageNet's: 0.229,0.224,0.225)
          --bgr                  the model takes blue, green, red (Caffe and CNTK exports)
          --scale S              multiply the [0,1] pixels by S first (255 for 0…255 models)
          --output-name NAME     the graph output to explain (default: the first)
          --mean-image PATH      a mean image [3, H, W] subtracted after --scale: a .npy, or an ONNX
                                 preprocessing model holding it (ML.NET's ResNetPreprocess.onnx)
          --weights PATH         the caffemodel
          --labels PATH          synset_words.txt or ImageNetLabels.txt; for an ONNX model without 1000
                                 classes, one label per line (default: "class 0", "class 1", …)
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto (CUDA, then OpenCL, then cpu)
          -h, --help             this help

        Many images: several IMAGEs, a folder (its image files at any depth), a glob ("photos/*.jpg") or
        @list.txt (one path per line) load the model once and write OUT/NAME/ per image (default OUT:
        ig-out), then OUT/report.jsonl (one line per image, errors included), OUT/index.html (a gallery
        sortable by delta and confidence) and OUT/dataset/ (per predicted class, the mean mask; summary.csv
        and summary.json). A rerun skips the images already done with the same options.
          -t, --target top:K     explain each image's K most probable classes (1…10), into NAME/top-1/ … top-K/
          --force                redo images that are already done
          --shard K/N            this process's 1/N of the images (stable: by a hash of each name)
          --shards N             N, with K from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX); a Slurm
                                 job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) needs neither

        Writes figure.png, mask.png, overlay.png, saturation.png, interpolation.png, attributions.npy and
        path.npy into the output folder, each under a temporary name first and all renamed into place at
        the end: an interrupted run (Ctrl-C: exit 130, SIGTERM: 143) leaves the previous outputs intact.
        Exit codes: 0 success, 1 a bad file (image, weights, labels, output folder), 2 bad arguments.

        """;
}
