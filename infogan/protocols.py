"""The published FactorVAE / MIG protocols, so a score sits beside the literature's like for like
(:func:`infogan.metrics.disentanglement_scores` runs them). Plain Python, so ``evaluate --help`` lists them without
importing torch."""

# FactorVAE: votes to fit, votes held out (0: scored on the fitting votes), images per vote, images for the scale;
# MIG: images, bins.
PROTOCOLS = {  # in the order plots and help list them: the published table's protocol first
    # InfoGAN-CR (Lin et al. 2020), their Table 1: 500 votes of 100 images, scored on the same votes; MIG on 73,728
    "infogan_cr": dict(num_train=500, num_eval=0, votes_batch=100, num_variance=73728, mig_samples=73728, bins=20),
    # disentanglement_lib (Locatello et al. 2019): held-out votes
    "disentanglement_lib": dict(num_train=10000, num_eval=5000, votes_batch=64, num_variance=10000,
                                mig_samples=10000, bins=20),
    # small and quick, for the learning curve logged during training (a fixed subset: comparable across epochs)
    "quick": dict(num_train=200, num_eval=100, votes_batch=64, num_variance=5000, mig_samples=5000, bins=20),
}
