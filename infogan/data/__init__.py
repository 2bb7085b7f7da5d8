"""The data: one record per dataset (:mod:`~infogan.data.records`), pure loaders per storage (IDX files in memory,
image files, dSprites), the training order that resumes at any batch, and the Lightning DataModule that serves them
(:mod:`~infogan.data.datamodule`, the only module here that imports Lightning)."""
