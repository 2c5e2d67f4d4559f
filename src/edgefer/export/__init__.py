"""Export trained models for deployment: ONNX, int8 ONNX, TFLite (Micro) and microcontroller packages."""
