"""The digit model: numpy-only inference and the SageMaker inference contract.

Self-contained on purpose: this file is shipped as ``code/inference.py`` in
``model.tar.gz`` beside the weights, and the SageMaker scikit-learn serving
container imports it with nothing else of this project around it (it has numpy).

Network (weights trained by ``model/train.py``, batch norm already folded in):
conv3x3(1->16) relu maxpool2 -> conv3x3(16->32) relu maxpool2 ->
conv3x3 valid(32->64) relu -> dense(1600->128) relu -> dense(128->10) softmax.

The container's contract is ``model_fn`` + one ``transform_fn`` that answers
like a service: 200 with the predictions, or a JSON error with 400, 406 or 415.

The answer is calibrated (``model/calibrate.py`` fits it on the training split):
the logits are divided by a temperature, and a small "digit score" network over
the model's own activations says how much the image looks like a digit at all.
The ten probabilities served are ``s * softmax(logits / T) + (1 - s) / 10``: a
digit keeps its calibrated answer, anything else flattens towards "no digit is
more likely than another", so its confidence is low. The ranking never changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_GLOB = "digits-*.npz"
MAX_BATCH = 256
PIXELS = 28 * 28
JSON_CONTENT_TYPE = "application/json"
# Media ranges of an Accept header that admit a JSON answer.
JSON_ACCEPTING_RANGES = frozenset({JSON_CONTENT_TYPE, "application/*", "*/*"})
LAYER_NAMES = ("conv1", "conv2", "conv3", "dense1", "dense2")
# The digit score's inputs: the hidden layer (128); each convolution's channels
# (16, 32, 64) averaged and maximised over their positions, which describe the
# strokes of anything, digit or not; the 10 logits; and four facts of the ink
# (mean, share over one half, height and width of its box).
DETECTOR_FEATURES = 128 + 2 * (16 + 32 + 64) + 10 + 4
DETECTOR_HIDDEN = 8
# Pixels above this count as ink for the box; the preprocessing makes its longer side 20 px.
INK_LEVEL = 0.2
INK_BOX_SIDE = 20.0

# --- calibration: written by model/calibrate.py for the weights below; do not edit ---
CALIBRATED_SHA256 = "f2cd7fd51f0cb1cfbd74812c51941b3c71f3262a9c36e1909cf973ea449486d6"
TEMPERATURE = 0.467012
DETECTOR_BIAS = 0.053334
DETECTOR_PARAMETERS = (
    "t4GBPmNP+L0iNEM9JLMOv++MUjsGP/486mUoPmbxML5rtn8+lvmrPc2LjD2G7bE5e+ZzPQ6wej1B6RE9VjmEvv7lQT6MPQO9"
    "BoWJu4KjgL4v7GE9G9s1PfwrMD7dmxe9n4lhPjYU2LzmAjS+5Gwhu/97oL4bn4W+M+dkvUkgwbwBMmm+M3KtPRRm2z7qwMW+"
    "E/4IPwke5z5dEtk+jA83vfOK8z3fGjO+BuIhPTKeFL5QabO7lJcaPVcxiD3mrX++7RqDPXpaaT3aUoM+nq7PvtA5gz5eU2A+"
    "UQdlPTfYGT181QS/QtE9vgNWXT7vDRY/VXq/vBuo3L2aVuY8I2P/vimyBL8ELwm9616IPXyZZz5P9ZI9O0CjPRAk3j3rcUA8"
    "7S6svhA7AL2zBIM9w6Mrvvh/w710JqO9dYJHPkVP9j5e1eS9VCD/vPEXar5IgO4+uWoPvcYJNb6gHty9R7vxvrGO0b0Rpxa+"
    "M7gnvrg2vz7P5aq9oO+lvdb13r0d2AS9W/SwPhGn1D2wWqY81pBCvsA2qr0NhP29u9kqvNiXDL17J28+n7hxviq7Gb4pyFg9"
    "+sFLviGVOb6mGEA8Z2E8vayhE77F3d49qEixPdMFtr1DiIc9COEcPtj9v70rcbG9ygGWPHz0wr4LzYe+yOu8PvpHhr4piju+"
    "VLvbvMR81L0AAAAAAAAAgAAAAIAAAAAAAAAAAAAAAIAAAACAAAAAgNk6zz0T1h07DTpPvfqQ5r02L4W98fBgPLkDc72606o9"
    "+ohcPvJAobz7k3O+Yhxjvsxre74eZCO+FSQmvgoc9jtr4N68ObqMvZSlE76jG58+MJm/vX2mOr30qw++zmWEvqYPHj9Eada9"
    "IjrMvWXXpb3oLVq+Mc5Hvkp0mb0tS5G+7/6SPkBle76uRi6+pfWHPaoOwL06udO8MQj6PW+hur1MEqi+yLqPPRNQ6z3I6Rs9"
    "zAWsO+59cD0mzAw+Se6yvGN9FL/Ao20+7iH3uld96b3MzIQ+ewm8PsPJFz6AQNI+nf71PumM270GHJu+jrH4va0HdL7CH5u+"
    "d0gdvrh7nb6b4gI+CquEPXhCU7qeFJe7BB+ZPfEfaTyPzjU+cKl8PiFJMrwH9R2+gST6PSXnQL6g3gs9KAdBPe3mOz5wqpe9"
    "PIOIva51XD0lyXO+xP7yPnTL/72ygi6+9eKmvYHjgz7fNBq/lFsOPkFbGD6D17Y+J9FUPjPwNz48z0w+lObIvf2lYT4qFyo+"
    "WJbHPs33pL6HOMW8ZjO5uwsRxj6SJb687k3HvmkpXb3h39e9iFMsPnofAL2/7oW97TpyPLNu9T6ZEzy+WXDiPfeefT5RM8m9"
    "l6g6Ph3Uoj6f+wM/punkPp39WL6ip5W9OduDPnvZX702cRo+B2ldPv8SXz7PqnC+iaZxPBTFrD0qm3q9G9nBvRWnC75r7g2+"
    "XrmvPUjvGD5gGhg+jPqRvq/X/70CJY8+gfVxvsYvdr5ZkoE+Q2htvQyPcT7Nqx++ur87vtmYqrzlNIW+3w6MvmbwkD2/sjy9"
    "UCMKvaTXFD2QA4k+rrbyPQLloz5ONrs+/Vj7vU0w8DxBhBU+1nU6vqIOszy8H8O9cZTJu4BTObyRX9E93sJHvjr0Fr8oD1E+"
    "HCq7PeuZTz5qUsE+JYSVPoC9UD2lCbw+/D2rvISpVj7TYTi+FtghPu/A7r1FEjK9JNUtPnj3LT4ojtC+JJbevLc8GT7/zrY+"
    "qZYdPjHYJT3uV429mBJjvoxv9D5jP62+FXZjvpy2Cj16mLq+lTKUvpaXiLy+V+C+hLgUPh08TbvKnsO97Z4YvdKvT71dUiS9"
    "nvfaO8yz6L15Zwy/zAYEPoBy/z0QLgg+w8QyPlyLRz5rQ3o9E1THPUN8kz64tpk+d0sMPlckEL+86nk+BmKVvNAVJr6Gx/o9"
    "bsXvPu7Ncb5ct4e+R5QfPl54qr6WC9u+CWBbvuYyu76UN7W+H4WBvcibkL0L6t49oSq8PUrMfD2FnWa9P7iyPfrwSL6vWUI9"
    "Jar6PVTKvLw+/wM9LvlkPDvTqb21iIK+ZzoPvk6TQjsw2r+86pFCPiFpJDxK6aA9K6nSvT8MPb5/wFg+zDNYPrxbSz7g08a+"
    "+/YqPmpcND7nbes9Hh7PPm+Pwz6AC3G9zsYovmxQk7zrwkC+NZAavl29vL0WTRq+p7/+vrp53j4UsN09oPjRPiN+vT6YXBg+"
    "yZjyPbgEUT/Lzb4+9HvYvLTrkbxuNcm+IYfYO2xLsr3XTX49MG1VPFsHuj4I428/9fmDvqVqJL43jCI9TCuBPeRpg783c7g+"
    "GRe5vkzrGb7Ss8k+cpFJPWqJXT7adDE+8jlnPkyTer6gfJ497a8kvpQEtr3/8u69Qzuivb3PoL3Cs7a86cE6vmkULj5ppuq+"
    "uyu1vhS+xD6NuHm+gP6RvmIlBr5xJ6U9jKyKPlNNEj2PtpG9+bzBvq5pwT0SLGO8UfRovTBU4T0Yjim+9JR9vS8Z+L3j7a8+"
    "s46+vXI4f72RDDS+UNWpvjTNzjy7G8+8bowMvips4bz8jXK9bnCFPLj4TL4qOSm9jdOBvcz3oDxYowu9NKlwPgcpSzzA9Zm8"
    "J+O3PErq8b15hfA82jngPdwtUL48mgU+ookTPVqgUj0etJ49v+Y0PTDOGL5XjUu+mwxRvkrGMj5UE+i9DgQiPROF1zxnSiS+"
    "AAAAgAAAAAAAAAAAAAAAgAAAAIAAAACAAAAAAAAAAADIkTo+D9z+PQMZUj7hBaY9/61dPtwLST6f9fm8Tu3sPZOJkj0BNDA9"
    "ClG/vcsOjD4kGia+cAolvqkomzyoRKu8V1f5vj4Vij2a1ZA+zh3PvUxKMz4nKiY+xQ1VPbvp+T0AAACAAAAAgAAAAIAAAAAA"
    "AAAAAAAAAIAAAAAAAAAAANSaqL44UxY+qZpoPQmXTz4mhHY9tA21PG21PT2m9uc9BMmCPGvdYzyLayC8LkcaPd6Kcr1PqiG+"
    "7rsvvXB4e76zh7e7A6dAPlvFxD2zIcW+1prwvUHXY7zjO7s+xW2SPeYiob6sWBQ+KkN0PuvN1D0zMsM9+dDsPTEACL2kULu9"
    "XwPqPuWbKD4n4lK8Xm0nv4Me7LzzVag8PzIMvonbqT1U3HS+/f6JvVgwSLxHVxY+1uj0Octcgb2ETHc9CMGovJjG3T59HqW9"
    "CtTAvma3Ob4yj5e+ZPqGvmJdCr4P+re9mb9mvhvAED6wHEo++ScYPmH2oT1VaYI9Y9qPPpIcqT3uhSm/lP2OPcs7Dr9tUMc+"
    "RCsyvROE9bzNQFy+RFcPvkqMOb7izpI9s9vjvDJluz1BOBy9qzy2u0aOSj43xRS9GYqLvaXpazy8Ngc9PxXmPYGBU7yDdSW9"
    "/UZMvTW8YT3x3Go+2saku7/KUb0kr9a+z+SDPfCRNr1APgw+BbFXPm35oj07a8M9xy+KvejJnL5HyAc9Su2zPMmxKT0yqpg+"
    "UmCAvvs9A76j3Zu9ESIfP+9qTT17vbS8NAzOPFdkmr4YA2C+WxDRPdBl9zxUt7o8NDnLPYDAUD5DwhE+odNiPtVDqL4sFRC+"
    "muNAvngA2j75IQi+/fiHvtxRob2WjlQ+nADIPs3vHb6IsZK+Q7mrvsh2s77C+ua+fLI8vli+yT3jzmg9+5GjvRmpFz4mrEO+"
    "JLbgPaYm2D0Gizk+VnuevAzUSr7i77S9Aka2PbRv+DzTrfA9u+XVPPdG2T1Jmyg9AAAAgAAAAAAAAAAAAAAAgAAAAAAAAACA"
    "AAAAAAAAAABi79k9jfZHPjLxirx/GTO+UvGcOo96Wz2dVCs8ZknZPdyOmz5GjOY8IzdMPp8Mar4mSPw9wk8vvDigqz2CXJu9"
    "AAAAgAAAAIAAAAAAAAAAgAAAAIAAAAAAAAAAAAAAAACkw4i+Z9QRPjrx+jyX2RE9vvFyPVrqmD1w0hq9QdOcPtiB9b6hYcS+"
    "rTQnvq+nSz/mxWq+gnlFvklCyj209iC+AAAAAAAAAAAAAACAAAAAgAAAAAAAAAAAAAAAgAAAAIAmcIg9OHXkPhV6C0A3JW2/"
    "4hzQP2+TuT/2Kso9gtf6vvIhwz5xZWU85fOSPX1/yb5YABA9OSdyPGlx+j0ImS69EM4YPhLlhr4+iV29Ae+UPWeuo77L0oK+"
    "c/0GPQA7hr4t070+fj14PucsDT5usJq+xy8xPg88HT4YMoI9Prlqvq2VBL+TfFA9/fgBPmJsrj7ujpQ+208+PoslVz5qr7y8"
    "BUQpvoUJ3D0md7m8AH8AvpqIPL4pQKy9S1XOvesnOj5iTQ8/0BMqvVkGEL7UuJm+f6lQPE0K8rxoBB2+/d19vu737L1CwIM9"
    "Yl3jPZtJdL6PlXY+vSGBPqvDaT6aCp09h3S5vqFKHzx814g+qcqmProcrz1pFwc+VmoXPmhR971I3HW+uwftvUTajD1xAb0+"
    "ud2cvPNrGr21glU9VmySvhrpyT7+hS++hr2MvqxEPj6oXSS9s2deO2JYXb56vau+/miJvtohZL453yU9uJ9rPn/lNr0QTKs7"
    "4Zi7PfPibr6corw+t13GveyWN7zkfIC+FvwYvtYJ8L0peP09B3LMveBFTj3GmNI9ju04vpMNEz+OLQm+a44evprqm74/5kq9"
    "8vmCPd+7f766bgc9AbDkPQJl7L3dQ6m7ovTPvTl4sL6kwJg+3oyrvScORj3cUQM9SylQPSrds71a0om86/LYvsBlED5/Wtq8"
    "AgdXPZZSm76EW4a8eOP5PbK+zT1U3Pa7GiafvRNTBLwP9Y09zYJIPob/zz2cGyw+hXAVu/5LIL1GFK8+Nvy/vPD6HL2alUe9"
    "TF5tvkRKAr6W/ge9jAUUvlGQwT6Yug++on6hPT5XpL1v4BO+okIKu2yjTj5YiDO+z3/dvuu+GzzbYzc+ys9Zvm1LaDyGPEy8"
    "ZEz1vJN/Zz79Wz8+gvsuvrt1jb2yfvy9EBCCvK9FQz1HHRQ+PMWFvgQ1ab5kwJk+ytX+PVinTL4Zhcc9Z2X9PVpChr2GclU+"
    "0n9hvfozhL7nNYs8yg4pPo0Wk73a7ym+33wOPu43/L3xiIU+Qz0FvYye0rzm37O+SkYDvoEghL1OUgO9IcUCPsIoib57M5A+"
    "lZDdPnKpr76qbbY++fLAPn0OlDyIwok+WNdFPbzL4r1ThA+9iIV0PtTju7wisoS9fqkmvvQbP75s5Qu/Y/tKPknUYz7smic+"
    "k8cQPuwnRT4L1oc+85aGuhYKyT4aLZY8FKchvQ5Xmb7voAY9yPEDvgaQ5rzuA5K8vwuNvs5KVz6ipQc+7/4WPTjjMT79NRU+"
    "vjSXPeZSej54cCW/SeHOPVusIL1LZ2A+FPzFvPDZCj3Sfis7d9kiPrfD9L3dohQ+06r6vMGjkz6936M9SJDmPTBBDr7/FY6+"
    "d8GUPkK+KL5tjYu+ZTkBvsW68r1vBK69d5kOPs7UAj4nZj2+UkD7OwACiT3kh909eyc8PZwIvDslPxS+A93OvZKzWz7CAZQ/"
    "y13zvlvG0j27NYg+DxLSPsJ0vb7I5oc+PBZNvxQ9tD/uYcm93tqsv337Hz7bMTG8ND6OPxzI0D8T8WK/pe7ivddCdD5xsCW/"
    "RoI1P4QZLD/HLnk/JIhhP9L3rr6jwTg/DxWkPoubir8/Pew+oharPsSRBz/gwbI/P2FWPmPVLz/OCoK/TOa/PfGBVr767be8"
    "v3Z0v+PZTj8zPi8/uWQOQFsqHUCDqDO/MaoSP04mvL7ZHJi/T8ebP+7vWL9zH3k/N7iLvJXTKr8cqLI+N2vUPmCImz4sHZ4/"
    "XsMJvw3JqT8CJUW+qrkEv9fHMj9Fm00/C4kvvs2FlD+Apeq9fK5xPjpxXb4dMhE+2BudPh9BZT4CuyC+sGIgPy+agr7tDOI+"
    "jfGEPt/9/L4S1Ls+YisJPoy0aD4nMj4/zWAnP1HcSj4taLW/X4GPv0gaAb8Qvje+fgGVv7vfZD/Jass++1KvPm+O970xUc8+"
    "TcOtvipLRr1b206+C5lZPo1Dmb32eTo/+lvdv56p1z7XKbK+JPlkv4G/HcAiVY0/10Ajv8VoKT98qrK+St8JvyOq6T0zvsS8"
    "EokAPjsviz/zG0+/33kxPzygcT0FhvO+Qv29PuSIzT663zo9sK5JP89Y+D4fPxk+HCsjv4plQb7imaI8J0XDvtMgyz0hOxk/"
    "6G0mPnEFCr/y7aC+rKM/PxDEur3oWJ6+BYioPmqoQj/KtPC+/l6nPrZeUz6nD2W+Bo0BPSYNfD3YG5E+eVoYP2hdHr8V2aA+"
    "047nPrSWzD4dKE8/oT5XP8XEET3DTUw+o2+MvsOSoz5Hepg+/6Kzvj72dT6raXg+FR9ePvlikT4xg42+394KPCzgJj60BgE8"
    "KAGvPu46tj5t4TQ8pQCYPvKsD0L8hQ3B/u02wIl7CEI9XqHAq8ntwExUZz+sPabAUisNv5lEWD4uHPg+graxvgVoqD5r0oY+"
    "CR4CP00S8D5o3xw+kvklvgmuU75Eiyy+5Wb5vcsgKL7V6Dm+AAq7PanCCb3f8YA9bBwDPm0lV75ISNA9Bo1nPY+aJr5kyzU+"
    "iayWvZbu8z3YX5U8ce/QvbqScD17a9s8LRoBPe1X+T0p6X2+156HPXgIwT5GngC/26b4PjplHT/09RA+2iF9Pk/rB74IwwC+"
    "0zmmPdZWyj6sJ449WCQWPQj9gL3Fqwq+Gbwgv6GN+j7R4AI/aAlVv3yMWT8o81c/b7MNvlk3xT9eRGe9EzXBPR5NFzy8V9+6"
    "J9xxPfHrMj1/fLO9Bl8yPQTL5LxO0YC8rMjnPGdJDrzcT9E9zPWdPSPhyD3V3ps81DWTvRX8/T1jjkU9wDJ2vvvwCj7s9EY9"
    "nYtKvrS2MT7Kx5K+ECcyP1DSFz83s0Q/KwYhP7zUFD9/kIW+fs61vtQrJ7/G0xi/tZuFPRWexz8cyCi9sEF0veFo0b0FgLG/"
    "cQgNP4ETAj5oSFs+x5MtPq2Ilj46s9g7pKFVvcHJg77p9pQ+LLToPWf0WD7NhDm/ZsODvlqb9L7F8L8+kBM9Py+MKr7yYYa/"
    "FlqGPhkVUj9sNGS+5ZUKv857pD8LcVc+eBiTPnqSNj18igi/d+5yvqjIkb6wOhY9/rqtvi4sSL822Me+X/0dPwZA1D74kwO+"
    "oMIYPzRlMz9C3iE/l44FPwVdP79k0zA/hCRtPnkRPL93E8U+PrNWPqPXMz7vcP0+ZE6bv3U6xD+OzLk/CRIBv+lHhj9C+O8/"
    "NT88vko4jr49jbC9mpLxv+0ykz8VYpzACDigvlUmRD9QBilAYsbHP7MM7b+ObRhAdSoqQF5pkL9Q6RBAFLMhQFLjDD3fYI0/"
    "EeTCv16wND9kr9S95phZP8rrXL45pJ8+fBsIv2xDCr/NiOk+fVBgP33iG75o48++05oEP7JxWD5Vrrm+54goPeGoGD1IECk+"
    "fY5KP4/v/LwW5oU/jLJIPxH8IT/Rg/q+MzJ2v9Xg5Dwr010/nJWTvi85Dz+kolY/0oMAvhXf477DyxI/tYOQPlXYSD6Bju8+"
    "qFa1PhN43j4H1UC//kdzv6b/h74xIuU+gjWSPrmw3z6DHys91/uDvrtyJT+zFos9lrxjP8nl2j6qnju/ocviPi6l2r0PdYi+"
    "mYcRvzVMRL/Fvx2+/3DPvguztz7oBZ0/wRkjP2DwIz/13pe+cbJfvxvOLbwoWzC8OD4fP0pMFT6IrtI+gzeqPpaMwL4yTCK+"
    "oyeyPz+SEr+/vBO/dp0YP+3jEL/TJiy/Phg4vlwdjr+n6oy9cJG1vlJGxT0GtsU/phFUv+7Jor6G5S4/mhttvlQa/r+0fA5A"
    "rRDLPxs8gr0hvjo/WMmRP/ZWH0BPfUG/pngnvzq4FkCYzsk+Tt5lPllv5Luvslm+/sZUPxzMDz5sDay9s6Z0PmC9175jaKE+"
    "Jor7PbDxob2xU3W9Fz/VPupAM0AZESC/22VYP8b5xD16sIi/RHPSvsNdsr7oGlI9EiT6v9YW9j7IXow8vt4BwG0hGD/go58/"
    "YuuOPyfdsL2g+4a+C1gWvg8LBz8YUxS/hAnlPsEK8D7ljLI/jOg6vR4Rxr928rY/vJ7+P5HQyL9vkew/manyPyPH4T/BgrA/"
    "zAgHP50PTT77+VC9ERLKOgLz676oaDG+JWEpPSIZCr+3vDY/8qWpPlMKAT7dMNA+AhhgPO0Ruz2Jyc0/E16DP3sbjb9qNUY/"
    "OSuJvviZYL8H/5W+u6KRvu27pT5pf4Y/G46cvgGmiD6AqZY9diw5Plkr8z0JfSY+rAYLvj5LzDyXWci9CwegvVRFZL1LeYk+"
    "szA7vloVOb4Zq7u++xzNvoYV+Lmpcsu8RaEpvUxu3z0HCz08oEv4PNnqszu6faU9dQk3PPStzrzB5BG+BHvfPcSd1L36jIO9"
    "QLmhvekmRb2xl88+bsXWvi1JNr7kkzG+/Aaqvmdwm778haw+VJjtPYIWX75yD1Q+9YICPm6qfD3B0X8+EzylPuOU/r3QzEK9"
    "3PfTPQaTJL59SL69nzFBvgQDrrtjLJo9EiaoPa6NkD5P34q72YHYPbOxcbsBgSM9JRIAPcN1ljvw2Ou7FkiSOXQHLb7ArTE+"
    "pUDSPSN6AL0lk+M9kYQSPhH2vb6K2TO+6FpXv/3dqj26wyc+kEqKvko0UD6JpVQ+JJYPP25mwj6TPuI90rZFPvaucD53Ddi+"
    "O6GavYMIgj3/0dY81qZWvSVXCzzhuzK+z+jfvW1H/T1zJnO9lpAhPXCEYD1+n+m8Hv4jPg1/CD0Fklc9GF0PPS85gD2VC5Q9"
    "2Vm+vYQJwz1y7S0+lzs0vcn+EL5LyI690QbbvXRdoL1DYws+FrJOvk7+071j4V69vY3hulyLib5esDM9bwZFPJXQs73MUGs+"
    "2B6pu5xSVr6npSy+SsILPufdDr7Uox6+FekZvryODL4y1TG+jIBvPTzjoz07jZi9FRp4PYtuCL1aA8E9EXZavjjznj5wodO9"
    "YrC3vs/CNT7G29m+fQ+lvpTIaL5X8i897407vS2YvjwcWRk9MPWdPXI8Lj7E+hg+lxjDvTS55ju6Ms+8eY8mPHzO8zzviQm+"
    "joljPafxIz0tWTC+sW33PWjoeT330jk87T7qPKBHKT51U/E9ZHKdPdHq371zzV+96ddGvr9WMz5NTEw+NhQAPy42Vz2IKli8"
    "13DlvpI4Z77klUW/MyJ7PgnSQD6eEKY+hLjQPlOHMz4zT8s+BBDGPv02E78gVGQ7ZC9Hvh1jST5xTsm+K10Hv70EbT5iaVc/"
    "9bcGvTd2ED7aLl2+gqZqvTXtyD0F37g88V+gvoUl0D5YyTw/6zlQvjG3hL6ymI6/cHG7vrQ3ir669Io/hRlBP4+z/77mgJ26"
    "XxRDvkbIJr0aXI49u2jkvWh0yL3ShpU+NtoaP8kbyb5Sqa++lwXVvtkLkb7VhIi+XfnhPkCeLT4+P4++1DNkPtOcGD4eS1G+"
    "txTpPQJZ/D124Fc+/W2MPgzk7z2HvUi9m4DLva56+rsAWSG9XcYAvSZIKj30JRU+quGnvUecALsC+oY+HXqRPvkPoT1WDtw9"
    "anxqPtbChTwHWCi9A1k6PTAFoL3hQ1m+zvJHPGdqu7yv1lI9NLMKPnTi4j52IiI/ORD5PtaU0787CKU+JvoUPfDMTj8mXRW+"
    "jl3VwLEEmL+14kE+7iP8Pq30oj/bFyE/YYJ6P1yxhUA5Gvm/FD2WPmjqmj6VfCLA2NCovtYIDb96zT0+5S0tQDRCO0BfGjrA"
    "nRR3wB9CtL6MS2nABptowESmQD+j+IW/pi20PvXadb9cC3S994XCPT3BUb7viCO/aeaFv6b3Fb8C6zU/E+cZQGZd8T93B0DA"
    "UxBqP1Y4Nz/f/QbAOgJiPzoy4j/0DHPAV81hwGPJAkAirI3AIUucwPiFrr9T90PAJFmqQHee0sAqCstAVYdKQDgB/j6VYZ4+"
    "yv4SQCS3e8DZ/qO/MxgBwGBqYUAsT0fA8t/SP293CECOvClAMqqgv/dN5cAd9/O/xTLAvh/v5T/X7Vu9m6QTPs+JjD89oFm/"
    "vha/P/ztb7+FXrQ/4iBgvsx0lb8zejy/5zseQK9NHsD/vVzAxxt/wMMy20DKaw3AA2QnQUKW6UAb4CpBUOtZPuv8r7+Np5S/"
    "bu8VQGYXssAQ/lzAESyEwCh9ykCvNZ+/xu12vyDLXb+2DipAK6dLwGe+dL2dpo09GNFVQHOo379oF5JAnvnjv/H1S8C5RZ2/"
    "wsoewFQyOMBD4BnASv00wKcQSMDqCURAKhl0QM6/RcBn/cI/3OfPP1EoQ0D4BK8/OACZvyvmjj++2kM/a0cEwbHN3z1lFse/"
    "DJROQDySCUAgk5pAdHLTv2zHHz+jhITAAELevRHwnb845Mk/aYqaP5c0lEBEysA+PQOEPueh+sCIpizAytA/wJ2VDEBOdbA/"
    "QthEQQT6NcF16IrAaPmSQCYSHsEYcCLBJh15P6IUHcFZ5NE/tZ00wA4Yfb8OOo7Axu/yvxy/eL8h4YJAcVaKv5PF2b9TUKm/"
    "+A/Wuzn8dUAY2S6+tL5NPjY4i7/D9bDApdK1P9FpZ0D/HGPA2a5twI+VCsAC57G/eGuwvtmEWsCrWxxA/B7Vvynorb5Qdp6/"
    "JUOZP0r1CT9p0ps/Z0gwv4a9IUD4kAc9+tgawC4GPMAfWc6/fCYLwFmY+z+VWJE/d+mIQEEyzT66lsS/wy+fPfnxmb9mu3u/"
    "EUN8wK7RiD8ksXTAHYWFQGFOqkBOQBrALruuwLiaBMBbZW9A8RNnQNviyb7Z+mC+Bw8rQHvUlr80Fx1AQyYHQFhKoD/f2QTA"
    "WigEwEs7pT71xWG/vxk8wBhBLECr8ZG/n529P1A5mUAq9EHBGt1/Pw4cuD+dufa/NwYRQJmWpUBshDtAPQ/9wKWIIEDqfAq/"
    "tNMMwAmsCj9h9/y+ZtY/v3/WDMAmnCJAHdwRv3camT+TjPI/Bp8jwBPaPUCI/EFAHRCSPpaPrz8DZ4TA3D+VwHONBUAMUwbA"
    "J+FOP4rUCj8jNP0/lHSSP2Yf3D+wNhZAbZBePgfNgsCnNPi/w9Eiv0K1LECLvoVA8gA5v84y+j8Jlfi/h5tnwDs0KzxnFMg/"
    "qUfovjitFkCD62nAm4QeQMT6CkDStUXA/5gdQNSBYkB55oJAXcIVQMU7EcCAmapAKudEQANgh8Cl34VAcvCDQAYTI0BmU5K/"
    "G8A4wEM0F0CS0s5AXJ7lv6sWTUCtcmZAjWKyQJYCab+OXk1AA435P1kPEkBWBXW94fkDQG90KEBmTBi/cRjbv3DKF0BoEZQ/"
    "hVnEPyxHDsDAJss/tL6lP/6bij8D4iw+CBSlwOzCg7+C+3tA2JwSP8P+L0C0+/E/5q6FQC/Nkj9lEAnAUGyBvZ2JOT97Ani9"
    "oHklP6H4K744Mfs+k5uvvno9tr8NrCo/d4PGvrJLl8Bw5AfAGT6Pv9irDL/vEqW/DyIhwJbS2j+hdDC+/ncTwLj/iT6bkMW+"
    "l5ITwOZkq7+m7PfAunIEQHnZ6boL3KxALiW4QLRVUkDcKpy/L7CpwAK4usATV5xAC8OcQIC/SsCi9nVABLmFQNq78kAnLXlA"
    "jDSqQCBOXEAn8yjAVYyvv3xXnz/mznQ/xw5YPwr8fb9e3dc+ZDKuQLGPH0AiWyfAUI8KQAxPdUBIWjk/R4swwGNMgb+2lhrA"
    "d7GwP16U9j/ohAW+kzgMPwtdz77GZiW+mRmBv/Bemb8+NhI/2P4BQPZOD79FxJ6/Jf+MP3NpicDfrYbAmlgpwKCxEMD/Q6w/"
    "K8DJv02zj7+CyY9AZmBTP/p7v7+Z/62/MbHUvzjaB0Cc8x28ziP0O0aEHL/eZY2/dii1wMdBrD+qSoVAgdNVv3VqfUD5/25A"
    "OHAmP8FjDz9OtIDA9cwlP9ZhiD9Fz6u/vWcYQImH+j9hMvM/w2HsPy+NqMDmjlVAKZYNQUiDgb9RFARAhbNpQGV1ZUBungzA"
    "kkSvv6RA+79ooqlAq/5FPwymF0B6A59A1tC/QL7em7+enxfB+9eQP/F7TkBBvBlAQWUnQKyYJ0C8pWFADqzoPlsvV77Spem+"
    "QwvkvmecCb/3rAK9UqDpvlMitD99NXK/ViCOvg/HAb/BATk+tIyVP9kNBUANXw4/w7ncP9xpsb9qlz2/BEw+vo0UBUAOkyDA"
    "0xMjPwbknD/uTAtA+iYaP1Zyz7/Xh+S/jrjuP8xA9L9bCTQ/IMS3P7vEWT8gLhxABOoiPx8JML5/8pe+bPEDPmg3ND40p0q+"
    "mDmPP0AfZb8Wv48+6GalPq+r+L6sgorApmo1wFWBqb8NTiO9XWPkP0X3i75L2ANAeRvpv1+3kD/Zf/S/DJCPv6jwKz9b+Nk/"
    "vdYSvdInSrxW0wE+LsJzPdwUEL4UF8a9EjXQPYcV1L0mSrG9rTBGvx8D8r5vTo89ceVDvlai7L5wfpU9DXVlPonQ0b7Gd509"
    "ZsSTPRKIhT2zQfw9wD7XPTwUiT2zW6o+jwThPYVgnL4KBs6+jXwsvvsrk75orta+RKrbvAlVwT4XKLe+IhCGPcG0vTyj5dQ+"
    "UWDjPdADqb1oxti+fANRvnbwNT3ErkE95KsxPh4JWT6Rz749dFKBPtngiL567JK+XF+tPXpEj7ubiCi+rvBgvsRMkr4FEJa+"
    "HOYnvmq4sb5CNL4+aBtrPt5aAb5GLc4+mj+3PtqFJD7fTbS+dc+ZP9R/bD4ncye+cHEKPqR2D77wj6C8wgf7PDc1tj03YV6+"
    "e7CqvjaRtr5rdcm+fzriPqtZ2L2FYrG8jsGCvsfFl76QJBc+Aqp1vQv/1T3muI49IufhPe0Qjz0HT0I8NYpMvgh07D4EKgi/"
    "KsalvoPpWLzo5oA9KLp2vrfXuj1Yl5G+GZ8pP8yJNL4RU3i90PC2vk2Ctr5daGy+LX+WPlD1ib664YS9lsN1PdG/kD77RF6+"
    "+g0MPaaZpbsRAjU+pWNpvS7I5TyqSyY+79cSPTnKNr6DP2O9onpTPZYAOL6X7mO88nd7vg91SD4p4Hk+lq3LPXzr4b2U5eC8"
    "AcOwPk65iz2JSRw+200OPUYdkr5cwtu+wQcBv/xicL9tQie/xPVBPs2bDT/ms8A8mn63PcsOGL8fhy29PADCvYsOtT76RI4+"
    "lrE3P6kZUD75IqA+A7pXv0LtaD2XcrQ9kC2HvraXF756Qoe+qUmzvX2UTz7BqYM+M/oSP11OvD7NC4U/QrubPrMx5z6NuRg9"
    "Jgi7vR4jL78W1w6+HO2/PRiCBL5mGWA/tzXjPSCvUbx7QpY9Ve68PojxhDw5Qbc9JB8svpbG875j2HE+FR2APh/P+r5Erqa+"
    "G5/ovtmG+75sx3y7GsBDv2QnEb9KbRa+uk4YP+ckMb7YlwI/pdfhPmpyND/7kE0/NrCTPuYDg70oK/G9S4PFvk7kwLzpjBS+"
    "GvUlPvMLGz2C8yw/scWfvj56i77VlzC+PdG4vjonnr73faK+8msgPiAVSj5RfiW/o5yHvpgv5z5KL3S/UeiDv9M2ar21BDi7"
    "jZ7KPoZdPr5MK/y8VhgjPSK0KT1Xqzw+Z1QlvljlA78wytq9g+4ZPq9Vn76eoBS/yMWKvd3dNb8TLi8/6KEEP4Mwqr7MncG+"
    "dc4Yv6R35z1BEAS/zwYYvmmHEr/xEqy/b73EPpIDwz7ZPtW8QziZvlczZT0ydSE+b0Arvt6eDj8rzcU+q2cHv8jp7b5+E+U+"
    "oXiuvkM68b5Hx8i+dGYkPYNS3D2hoxK/4dATvvbVAb7AQla+vmpcvmoEIL6wYM09H3cHP7PhZz8h0jg+surovu97Jj6FS5k+"
    "LsOfvs0THD+zlig+Io4CvfTLRL5pV+S9w/NTPcTSajychbi9dCvLvfrM1j1D3y6+SR+kvucHk72/Z6G+JuDzvdEd67zsF2E9"
    "RbPLvSDv/Dz3PZ4+zr2OPtcJhz7nGEo+W7SmPl3alL5qhcS+xKsPv7WeIT4QpCE/A+Qlvgdmnr7er6E+SJAOvyOw1T6ETVg+"
    "NS6NPrq7pLxHBCU+9iJgPubQjL4v7qi+BTGPvWro4D5WtRU+gGS2PrwUuD5I9wY/8NrqPapaDr4yBqS+XX4Cv758e74cmY0/"
    "vu7Evjlx7b7FtxO+RVSBvtHemL1iany+EQ0KvvNxoj6Jcim+BKAevRZIR778KF6+KZyiPeoKXL7jH669DwCcvl3fBL96Xr++"
    "9uKRvY7l5r42ViK9tkvoPNbiuL2VobG9nyrpvYTv+L0cXoC+oYyjvn2tBT69PDe+9ruwvkSIIj+Jk4S+ArRFvvdZBr89nAO/"
    "NjWwvoD8pD5lj0q9Zd2cPpqcOT0tlws+Av5KPTsChz6kuSQ9EbJYPhR3ZL6Ev8c+wt/UvUtuPT5Ki58+zkDjviOQF71qrPk+"
    "RRRovu5MsT3E0gy/h1Phvl/yX77Jnte7AdAKPkbOB780X3S+mjr2PvBl576MChS/FbqbvvDQsr5MnjC/uPSXPm+atz4CPAM+"
    "UlzjPnTliD5g3r29NPH6PCPijb5rmqe+5lQWv2B12j47Swe+T3vOvqiAsT1nUVm+3sYSv3TtE7/YCqW+siomPzFcgr7j+oW+"
    "R9VJPOmbkD2tkau+flGSPkQ0Ob77wL893SmDPV7qGz6hJXi+0uO2Oxe90j2fKsa+KsSXu4g2Gz1i/6u+31smvqRbLT7vb6u+"
    "V+17vlqSS77tPeO83cW4Pm8H8r70cyU9oHWEPqbQMj6V1bu+3bsrv5UPND2TWnQ+8JObvXSNRT5EDT0+YD/FvbE4Yr+CGli+"
    "mLjaPTX63j6rrM8+kefLPloRtj7e/ZU+U92uPoj/P7/Ckg6/DecGP6oELL8ewje/wouQvvCeH7/cdAA/3G5HvxJxrL4xdEg/"
    "OFJHvij1u74IynY+Et0Av5wBZj3/0Se+lCy2vZsDpD1qfYc7pbGSvUIdOj1EMzu9KZiHv2Qqzj4mZ4M/yWESP8qoJT/oBzk/"
    "9/UlvhDgxD0E+5Q+ay2vPcD1Sz7rJ8y+LS7Mvew7pj6hBlM+V0qHvbpZcL2Szsu+pAA8vtEUDb5DE42+0F0ivnbAu7wLSgU/"
    "aq/TvJRMIT4ixZ09HGUmP1yrHb0oZ5K+U4DhPNvrCb6grvA8ZFftvFwzdDtJ5qC9fk0YO+mNLjxaLkU8XNwcvWcqoT00RfY8"
    "tfHJPLdXmrzsEDc8UC8ZPS6Pa7y3AKQ8Ifeyvc+fkTxyjwq8AiLVPR6S2btiP2i8Pk65vK6SmLt3AJg9XZzxu8gw+rziQwq9"
    "0NFZvUyqOb2DGZ680zf6PNi0yL1p1rU7dgN+PC2gXD3fsJ88EMUNPN8lGj1Xb+48qZrdvMHMgTt39bW8P3O0PdrEdbxhhKW8"
    "SIuvvNlBCzwz5fw8GIdFvD8bxDy6Cmu9vK7bPHWMrzz8Mow7aKORPHpExb0ftdQ8GiVwu3wupTwKDxE7J2XnuskMjrrXwDE8"
    "Xs+0PeZE/jvt6/q7R6YnvXjAyDtTrOM8YOU7vNMHEz2GsKa9/pPCvLHO1TxouZg9+3equ1yxlzwqRE07eGaxvOlazb//Umq+"
    "2pWQP//ARL9g7CA/y2vZP7+W5T8Rh3c/Lnqev7YRYr//qea+92TtvtdRZz42jek+T5euP9vKaj+cp64/Jz2cv3kTe78fJ8c/"
    "qYkQv4aBzb6w8ZO/v+yKvzDJTr9XOxg/uGRaPr/L8b7OOh0/tIT9PiDaQD98tzI/9safvhTelMD6ULvAzJi7wJoxF8GOYurA"
    "HBoKwbPkvcGp0JE/5dSFv9nRi78or5M/Lz+Hv9gEhL9r1ou/2vawvw=="
)
# --- end of calibration ---


class ModelInputError(ValueError):
    """A request body the model cannot accept: answered with a 400."""


def served_probabilities(logits: np.ndarray, temperature: float, digit_probability: np.ndarray) -> np.ndarray:
    """The calibrated ten-way answer, mixed with "no preference" as far as the image is no digit."""
    share = digit_probability[:, None]
    out: np.ndarray = share * _softmax(logits / temperature) + (1.0 - share) / logits.shape[1]
    return out


@dataclass(frozen=True)
class Calibration:
    """A temperature for the logits and the digit score: ``sigmoid(relu(x @ w1 + b1) @ w2 + b2)``."""

    temperature: float
    w1: np.ndarray  # (DETECTOR_FEATURES, DETECTOR_HIDDEN), input scaling folded in
    b1: np.ndarray
    w2: np.ndarray
    b2: float

    @classmethod
    def committed(cls) -> Calibration:
        """The constants calibrate.py wrote into this file."""
        values = np.frombuffer(base64.b64decode("".join(DETECTOR_PARAMETERS)), dtype="<f4")
        if values.size != (DETECTOR_FEATURES + 2) * DETECTOR_HIDDEN:
            raise ValueError("the calibration block holds no detector of the expected size")
        hidden = DETECTOR_HIDDEN
        w1 = values[: DETECTOR_FEATURES * hidden].reshape(DETECTOR_FEATURES, hidden)
        b1, w2 = values[DETECTOR_FEATURES * hidden : -hidden], values[-hidden:]
        return cls(TEMPERATURE, w1, b1, w2, DETECTOR_BIAS)

    def digit_probability(self, features: np.ndarray) -> np.ndarray:
        score = np.maximum(features @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2
        out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(score, -60.0, 60.0)))
        return out

    def apply(self, features: np.ndarray, logits: np.ndarray) -> np.ndarray:
        return served_probabilities(logits, self.temperature, self.digit_probability(features))


@dataclass(frozen=True)
class DigitModel:
    version: str
    sha256: str
    params: dict[str, np.ndarray]
    # None for weights the committed calibration was not fitted on: their raw softmax is served.
    calibration: Calibration | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DigitModel:
        raw = Path(path).read_bytes()
        with np.load(path, allow_pickle=False) as archive:
            params = {
                name: np.ascontiguousarray(archive[name], dtype=np.float32)
                for name in archive.files
                if name != "version"
            }
            version = str(archive["version"])
        missing = [f"{layer}.{part}" for layer in LAYER_NAMES for part in ("w", "b") if f"{layer}.{part}" not in params]
        if missing:
            raise ValueError(f"weights file {path} lacks {', '.join(missing)}")
        for conv in ("conv1", "conv2", "conv3"):
            params[f"{conv}.w"] = _rows_by_position(params[f"{conv}.w"])
        sha256 = hashlib.sha256(raw).hexdigest()
        calibration = Calibration.committed() if sha256 == CALIBRATED_SHA256 else None
        return cls(version=version, sha256=sha256, params=params, calibration=calibration)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) or (N, 784) floats in [0, 1], ink high -> (N, 10) the network's own softmax."""
        return _softmax(self._layers(images)[-1])

    def calibrated_proba(self, images: np.ndarray) -> np.ndarray:
        """The probabilities served: calibrated, and flattened as far as the image is no digit."""
        features, logits = self.detector_inputs(images)
        if self.calibration is None:
            return _softmax(logits)
        return self.calibration.apply(features, logits)

    def detector_inputs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, DETECTOR_FEATURES) inputs of the digit score, and (N, 10) logits."""
        pixels, first, second, last, hidden, logits = self._layers(images)
        pooled = [pool(maps, axis=(1, 2)) for maps in (first, second, last) for pool in (np.mean, np.max)]
        features = np.concatenate([hidden, *pooled, logits, _ink_facts(pixels)], axis=1)
        return features, logits

    def _layers(self, images: np.ndarray) -> tuple[np.ndarray, ...]:
        """The input as (N, 28, 28), each layer's output, and the logits last."""
        pixels = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
        p = self.params
        # ReLU after pooling: the same result (both are monotone), on a quarter of the values.
        first = _relu(_max_pool(_conv3x3(pixels[..., None], p["conv1.w"], p["conv1.b"], pad=1)))
        second = _relu(_max_pool(_conv3x3(first, p["conv2.w"], p["conv2.b"], pad=1)))
        last = _relu(_conv3x3(second, p["conv3.w"], p["conv3.b"], pad=0))
        hidden = _relu(last.reshape(last.shape[0], -1) @ p["dense1.w"] + p["dense1.b"])
        return pixels, first, second, last, hidden, hidden @ p["dense2.w"] + p["dense2.b"]


def _ink_facts(pixels: np.ndarray) -> np.ndarray:
    """Mean ink, share of strong ink, and the height and width of the ink's box
    (1 = the 20 px the preprocessing makes the longer side)."""
    ink = pixels > INK_LEVEL
    facts = [
        pixels.mean(axis=(1, 2)),
        (pixels > 0.5).mean(axis=(1, 2)),
        ink.any(axis=2).sum(axis=1) / INK_BOX_SIDE,
        ink.any(axis=1).sum(axis=1) / INK_BOX_SIDE,
    ]
    return np.stack(facts, axis=1).astype(np.float32)


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """NHWC convolution as one matrix product; ``w`` is (9 * C_in, C_out) in (kh, kw, c) order.

    The columns are nine shifted views concatenated along channels: contiguous
    copies, several times faster than gathering sliding windows."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, wd, _ = x.shape
    columns = np.concatenate([x[:, dy : dy + h - 2, dx : dx + wd - 2, :] for dy in range(3) for dx in range(3)], axis=3)
    out: np.ndarray = (columns.reshape(n * (h - 2) * (wd - 2), -1) @ w + b).reshape(n, h - 2, wd - 2, -1)
    return out


def _rows_by_position(weights: np.ndarray) -> np.ndarray:
    """Stored (c, kh, kw)-ordered rows (PyTorch's layout) -> the (kh, kw, c) order of ``_conv3x3``."""
    channels = weights.shape[0] // 9
    reordered = weights.reshape(channels, 3, 3, -1).transpose(1, 2, 0, 3).reshape(9 * channels, -1)
    return np.ascontiguousarray(reordered)


def _relu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.maximum(x, 0.0, out=x)
    return out


def _max_pool(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling as three element-wise maxima of strided views."""
    top = np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2])
    out: np.ndarray = np.maximum(top, np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2]), out=top)
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def default_weights_path(model_dir: str | os.PathLike[str] | None = None) -> Path:
    """The single weights file in ``model_dir`` (default: model/weights beside this file)."""
    directory = Path(model_dir) if model_dir else Path(__file__).resolve().parent / "weights"
    candidates = sorted(directory.glob(WEIGHTS_GLOB))
    if len(candidates) != 1:
        raise FileNotFoundError(f"expected exactly one {WEIGHTS_GLOB} in {directory}, found {len(candidates)}")
    return candidates[0]


def load_model(model_dir: str | os.PathLike[str] | None = None) -> DigitModel:
    return DigitModel.load(default_weights_path(model_dir))


def parse_request(body: str | bytes) -> np.ndarray:
    """A JSON request body ``{"instances": [[784 floats], ...]}`` -> an (N, 784) array."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise ModelInputError("The body is not valid JSON.") from None
    return parse_instances(payload)


def parse_instances(payload: Any) -> np.ndarray:
    """Validates ``{"instances": [[784 floats], ...]}`` into an (N, 784) array."""
    if not isinstance(payload, dict) or "instances" not in payload:
        raise ModelInputError('The body must be a JSON object {"instances": [[784 numbers], ...]}.')
    instances = payload["instances"]
    if not isinstance(instances, list) or not instances:
        raise ModelInputError('"instances" must be a non-empty list.')
    if len(instances) > MAX_BATCH:
        raise ModelInputError(f'"instances" holds at most {MAX_BATCH} images per request.')
    for index, instance in enumerate(instances):
        if not isinstance(instance, list) or len(instance) != PIXELS:
            raise ModelInputError(f"Instance {index} must be a list of {PIXELS} numbers.")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in instance):
            raise ModelInputError(f"Instance {index} must hold numbers only.")
    try:
        array = np.asarray(instances, dtype=np.float32)
    except OverflowError:  # an integer beyond any float
        raise ModelInputError("Pixel values must be finite numbers between 0 and 1.") from None
    if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
        raise ModelInputError("Pixel values must be finite numbers between 0 and 1.")
    return array


def prediction_body(probabilities: np.ndarray, model_version: str) -> dict[str, Any]:
    """The answer for (N, 10) probabilities: one prediction per instance, in order."""
    return {
        "predictions": [
            {
                "probabilities": [round(float(p), 6) for p in row],
                "digit": int(row.argmax()),
                "confidence": round(float(row.max()), 6),
            }
            for row in probabilities
        ],
        "modelVersion": model_version,
    }


@dataclass(frozen=True)
class ModelResponse:
    """One answer of the model container, with its own HTTP status.

    It is a WSGI application on purpose. The toolkit (sagemaker-containers
    ``_transformer.Transformer.transform``) turns a tuple returned by
    ``transform_fn`` into a 200 and hands anything else to Flask as the view's
    result; Flask runs a WSGI callable to make the response, so this status is
    the one the caller gets. An exception would be a 500 whatever it says."""

    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            f"{self.status} {HTTPStatus(self.status).phrase}",
            [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))],
        )
        return [self.body]


def error_response(status: HTTPStatus, code: str, message: str) -> ModelResponse:
    """The container's error answer: ``{"error": {"code", "message"}}``."""
    return ModelResponse(status.value, json.dumps({"error": {"code": code, "message": message}}).encode())


def _media_type(header: str) -> str:
    return header.split(";")[0].strip().lower()


def accepts_json(accept: str) -> bool:
    """Whether an Accept header (absent: anything) admits ``application/json``."""
    return not accept.strip() or any(_media_type(part) in JSON_ACCEPTING_RANGES for part in accept.split(","))


# --- The SageMaker inference contract (scikit-learn serving container) ---


def model_fn(model_dir: str) -> DigitModel:
    return load_model(model_dir)


def transform_fn(model: DigitModel, request_body: str | bytes, content_type: str, accept: str) -> ModelResponse:
    """One invocation: the toolkit passes the body (text for ``application/json``
    exactly, bytes otherwise), the Content-Type and the Accept header."""
    if _media_type(content_type or "") != JSON_CONTENT_TYPE:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            f"Content type {content_type!r} is not supported; send {JSON_CONTENT_TYPE}.",
        )
    if not accepts_json(accept or ""):
        return error_response(
            HTTPStatus.NOT_ACCEPTABLE,
            "NotAcceptable",
            f"Accept {accept!r} is not supported; accept {JSON_CONTENT_TYPE}.",
        )
    try:
        images = parse_request(request_body)
    except ModelInputError as error:
        return error_response(HTTPStatus.BAD_REQUEST, "InvalidInput", str(error))
    body = prediction_body(model.calibrated_proba(images), model.version)
    return ModelResponse(HTTPStatus.OK.value, json.dumps(body).encode())
