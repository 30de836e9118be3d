/**
 * The networks docs/results.md reports and how each comparison is run (shared by
 * scripts/results.ts and the test that regenerates fmnist-resnet8's committed report).
 */
export interface ResultsModel {
  spec: string;
  /** docs/results/<file>.json */
  file: string;
  title: string;
  ablation: boolean;
  dataset?: string;
  images?: number;
}

export function resultsModels(quick = false): ResultsModel[] {
  return [
    { spec: "zoo:resnet18", file: "resnet18", title: "ResNet-18 (ImageNet, 224x224), zoo:resnet18", ablation: !quick },
    { spec: "zoo:vgg16", file: "vgg16", title: "VGG-16 (ImageNet, 224x224), zoo:vgg16", ablation: false },
    {
      spec: "test/fixtures/models/fmnist-resnet8.onnx", file: "fmnist-resnet8", title: "ResNet-8 on Fashion-MNIST (trained, fmnist-resnet8.onnx)", ablation: true,
      dataset: "idx:test/fixtures/fashion-mnist-slice", images: 8,
    },
  ];
}
