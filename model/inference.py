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
TEMPERATURE = 0.467299
DETECTOR_BIAS = 0.276131
DETECTOR_PARAMETERS = (
    "nq2bPgwYKb33ccu7xbwVv65KE72j9tA7cOaBPgBek74vdZk+AMAsPdw3jT0Dw+e9cw7jPFpchD3IisU94FCNvmGxSD4VQoK9"
    "pld/PEVuer4U5Ky8wvORPf2APT6iVOO9QDcRPhyO3r0ggjm+IyfwvH35KL6pf4C+hWdZPMvsBL6Pjau9SRqkPcs2BT8brOe+"
    "lqS3PvcrCj/m/74+8dIRvpUHaj6XfE6+FxNOvIpQEr49Oku9u7UOvU9m6TveKTO+vsSPPWtrCT6/qZc+UGHkvg8bdj7k+lU+"
    "7uubvSHQLT7O6gK/T4NbvmqChj63oCA/4c5PvROKDr1sbZg9ubvQviTfCL9EwqS8DE+cPXz0eT77wRc9KOfgPSsfrj3QtcQ9"
    "Smitvlt+6jzOjZk90tVhvtBhjb3Qknm9i40fPjtgAz9Nxdq9X7o5vJVMer7gMvQ+SUeouscSW741Ha+802TMvqjG973mQhS+"
    "6xntvQN9xT6IwfS8MShTveW0071xeXG9i9a1PtwypT0DiXs9MAVKvtz1z72VbPu97YaXPDURZLnRVow+QM0Nvh9lPr47gLk8"
    "T6dlvsRXc77uybG9KcMBPY6jG76qqAw+ZbVDPRuTdr1dTI88Lrq+PWfnkb3x0+e9e2FePTVFg74vb5O+2nzTPibdm77wznq+"
    "NdWlvcR2mLwAAACAAAAAgAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAgG88kz00q549e096vcJ95r3lVI29RdOsvKxLFb4Cih4+"
    "lxtqPgTs1by3foy+GUlSvtCzfL4FhFu+shoqvrbYLD2Jeb+90nYMvb4lO72xgJ8+oPvfvUoegzzcVBG+iiFqvi8bGz9QC9O9"
    "ScK3vQOkfr2kora+7ldavqx5Eb6yKoy+D3VnPrrcHL7QByy+O687PXmKS76BpYy86D2TveO0w71Zl42+HriqPd089T1J6FU9"
    "XCsEPfywmT1OCjo+ZTlWvT6BA79huXo+imvRPHdser3LJJ4++XOrPrGEoz6LkX0+QjkBPzAhQr6o6qO+QcamvcCenr4eL6i+"
    "5HguvuLjEL/VD8k92B+LvVBjpb1eAvq7veObPaUgWDw5vHw+wV/EPpYsTrsdCxy+V/s1PkiLYb57I1E77OuoPTMWDjx7WQc9"
    "7PnwuvOv9L2z7IG+DTuePjQ8mr3sUVq+18dCPXQA+bzJ6A+/Qb4DPgV6Kz6h2q4+KOQFPoBgPj6FhyE+NtSxvQwhTj5I1S0+"
    "9wC9PqSunL7iTcW85L/qPCp37D6uydC9Ez3avhxmK75B78G92R1hPgfRR71TIQe9a5QtPVLhuj4jGQi+DfU5PnlDIT5w8va9"
    "W6gsPnWChD7Dr/c+7HHJPjnNUb5IMkk9QKR4Pj2W+bxE6Hc9lN8uPtRQ3T2VRuy9lJUUvXrZTz1oCsu8/UzJvQNM5r2QC4q9"
    "+8eAPkc+Jj1jBcE9KQNvvphJHL4G57I+t82bvknkVL7+/YU+PE3BPbzbbj4LJQq+BKQzvnoAjr0GMZe+7euZvlnQoj12Yr29"
    "3/KAvgHDdD2+WM8+H0o9PtsWEz6GZO4+nQCzvgQWgT67B3g+261WvpC5Tb1aGaW9wqXVvUDP1r09iRi9cEMFvvSHFb+9WXI+"
    "fiWOPvUXYj1CROA+DwbBPlGcvj5/rJE+TBjJvFdRAz7Y5CO+/WnuPbHFSL07OBu965uEPhailr22h82+72iQPWugJD5JgZk+"
    "2xPdvBAGrT2h9+S9hGxovhl03T7vjc++FK9fvtZanLxA2qS+UvBivqZsCz0gIdC+IGE2PkbMzL15MJy9myGSvIHbeb2eGdY7"
    "IhSKPU5iQ773iBG/trEqPjHG4j3eoxs+KogiPkvbTT6DO5A9cHXNPYVZij41G54+D1ggPjNnF78j/ps+LzHlPA0gbL5Dtwg+"
    "je0BP6BEor4CBYi+9VcxPlZEub5EbuW+ZdiJvobxjr4dAaq+5ngqvaMcLb3+wBA+qSQ2PQ2asz3CZZS9dOfBPdEVGL5T3Dw9"
    "sxcFPmJtmL2aIz28nRYXvC1nSj0QU4e++UsXvuoLDz18wLE8sGk6Pnuh5Lssnb49qcS/vbs9IL6O9Tk+9WgCPkNKQD7nO7W+"
    "UI5qPrVOgD7Wt7g8CWfmPkaptD7RCTS9yGTUvReUNL2E9iy+m9Abvn+p773diaS9/UnEvnAAez6xBxA+0RrsPmr85j53GJg+"
    "mRmBPsSBCj9kd7w+NdI5vbKLnjyjaMu+ITmIvDGw8LyAL+s94BuuvREubD5BEIi89BdVvhKBpb5ktSY/rtWYPkEjBz5exua+"
    "LHfovqbAjT0+ZeE++jjHPYoMpD1WZBs+DQTmPUMfvzzXCua84hsfvnxuS70rtpe9Nz/3vbdfh73gyfA8SyF5vjPmHD5KFgS/"
    "bISlvn9owz7aSyu+2bgnvunEeL2jJW89Xm2NPgorB7yp6oe747jivoBN4D0XPIg9UUXtPZRKTbxigxe+hK+evY78cL30A2U+"
    "y1/kvaYl/7qSLI+9knyqvj7nTT3Qr0K8TlmtvR++i72Pcmm9j9eOPGH/Jr4yYUi9nFlqvSJhtTpIUTe9eClcPsV7erxV+4K9"
    "D90DvauEo71fas09D8LsPatNiL49WGU94bYXO/vphL0dYhi+xeFfPt/2jL0+Dgy+dElsvq4jYT6Kk1W+IQTvvPlRhT2QpVe+"
    "AAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAAADFR8+g75IPisWcD7rjK49X7pLPmOKSD4wHSm+TZiNPvg9DT4FgD08"
    "XJP1vR09GT47Wk++SNcdvnEas72jjwG9IXAOvzCRB7oHNaA+Tjo/vdnzCT6kj2I+dYP/PDRelD4AAACAAAAAAAAAAIAAAAAA"
    "AAAAAAAAAIAAAACAAAAAAK6hh77WCXE+yiqyPGJvJD6dJHI9yYlcvYMoujsageY9msxIPY0ODD0ekyy9hNSfPCCyxr3Z3T2+"
    "+GILvrA7jb4Ceam9A2NcPg/ITT3i7fO+N3l0veOPob0jcd4+bHXQPVV7ob53r6U8viVEPtRe7T0tDn894BkcPrpGB70hQ6k9"
    "rgLSPvGV8T3jlsi7610fv+tJUD1MFjQ9MsnJveh0JT0Wp4O+//rdvDwPpjwEwwU+7fLVvdjCMrw4Z7Y8W8civk+SzD49aWu+"
    "xrLHvhccar7XHCq+MVZWvraJwb09xBK+zIA7vqwZrz2XIq49Hj9nPu2KRr0Zt4C9Q7uLPiX72D2f0jq/mp2kvgaG9r4iOZo+"
    "dHoDPoMFDT4DyVO+bleWPstpYb64r+49vH67vAKKFT4LBmO9rhoxvYz/MT53boQ9qGzvvOyr9zwDX3671xoPPnr+X70R0AK+"
    "2nOQvUCauD2t12U+I3u+vQ44qrxTPLy+hJ2CPZv2Az0wpyQ+ikEcPoERrz3e9EM+D73FvQHalL7ZsCI9tRsBPERtkT1DOrI+"
    "29SAvtLjB76dwwC99qc3P6kGyrwBtIA8doZcvE/W4740Us29eG5nPTDeLT24nkE9Y0hhPE0zNz5k2v090SO5vXLOl766unK9"
    "WJ0xviuZxD65Sam9h9N/vvymp71bn+E9CU/oPkhcS75yMZW+qye7vouhnr5g39O+UYstvisQZjxoUmY9Eq0fvcHmGT64xDO+"
    "PbpnPTlQ7D1hcyo+zXsxPKYnS76BgA49UGCYPbD2gj20GUm9lLmhvQrVyzyEjiM+AAAAAAAAAIAAAAAAAAAAAAAAAIAAAAAA"
    "AAAAgAAAAACl37o8mphHPjX5qTxxbyS+COsWPY//rD01l+w9NZsqPTknlj474k28jag/PhcFir62vJI9Bk/YOe6LfT1wdFW+"
    "AAAAgAAAAAAAAACAAAAAgAAAAAAAAACAAAAAgAAAAIBQgZq++BVnPQv3crtaSoc9iNp+PWhhhz0FhMs73T14Pha59L67I+K+"
    "2aQvvuRNRT/2soW+kOE1vijAX722DAS+AAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4noE/bzjlP5wttz8klNy/"
    "vEkfP3fJHz/o3Dc/ioykvyFbqT5hGBg9vY3yOxFP6b6neQO9V9QiPfBkqzxSpg27xRF4PdtsNb5OlFm9UkSqPa95xr7qJ5S+"
    "Y1CNvbllGr78k5A+Z8o0PklcTD5Ty4G+071BPq1Gcj5HTKg9AY/RvmZ5Gr/b2Ww9aFAYPhSVxT5yq5A+xfWRPqZzGD7irb88"
    "H9sDvu/t6T2t2w88Wz02vsIR7b3Agra9BuSFvSWgIz5+gBM/OqBwvdRV9r3G3JC+ecSbPN6bp72wj0q+jf9KvpneT74cJzM+"
    "6w1VPkJaOr7i1n0+dGOhPgh7bz5lMX89fOG2vttggT2Hjpk+JAK4Pj5y2brQJSY+ZXvIPSQTib3O12G+XJosvZXOqT03BMc+"
    "L+fSvasbLr3IO5M93nCFvrCD5D4dism9m2+9vngmJj4vJxy9K+6OvTvRq74wQl6++cfDvnePpb6GgaA9PdOdPr2hT765C8M8"
    "G02Vu2xUfr7qkNQ+8iavvcnM5r3XT52+NulEvmoeNb6QIEg+ZiCmvTtidT2IYWA83PcxvjfZFj/Rud89OEI2vauDj72c0SY9"
    "UdYAPgrvMb6Pv2q84BMAPp+eZ74Ttte9HMFnvqiuor6SKs0+3vhOvqoepD3+VFw8OlQdvV+ZiL0GpT++tTGivlMOXT6i13e9"
    "lySqPYZ9s76fMcW9oqYrPrZdgTy9frc9S3pevVkFPrzuEwE9i8tnPqiQzz3HLM89qviUPUOgGr69eJ8+qP0wvZNDJj3t+qC8"
    "zLhLvnM/sL1enoo8+vtyvtGc0j5cfgC9fZMLPiir3L0pZVa+seibO/2UPj4ODEu+Ibn4vlWTgT04iFo+mo42vt3eL70MoAq9"
    "jSpGvkj4nj7kc7k+ZJ2VvrqJ6r0T1DW+CBgyvtUzd73NJtG8BnqbvrqddL5kwmM+l1NVPtwBSr4DIio+C+XTPdipDL473Io+"
    "3M7uvR8W572yA3c9oWxEPurnF75lCSm+BnlxPmPXGL5Qp3E+sOuLu2nPWjxIGKW+0e/qvWTujr18VTs9fW+9PWHlWb5FYYU+"
    "2o7sPulLlr4Dtpg+a2fRPp6ATL4p8h0/CjbaPLUMyL0JYWi86uY4PjZNpj2bOok8uinHvTYJJr56Pvu+/WZEPv/ibj5QJRk+"
    "V2oxPgUNWT7LXZY+VEe5PF4zzT4G4S89CqsDvTkxnL6Bs/M8JkupvZF/Fj1rSPm9JeSTvmgxUz5MR0E+KHR1PQbqMj4RSTo+"
    "asHtPSPoXT5dEie/9UkpPV7iTr1wa0I+u59ZvFM6+Tw0h8u8mH8yPpxJiTvis8k9ymOSvcskVj6lLUk+h26KPUgxSL0h0tK+"
    "c05wPjw5vL33fIa+jm8SvvMjX72Z6rC8EHw9Pv6oezxleti9pN9VvJDjQDv3OTA+E/7QvXv0S70eADK+gzoBvmLUnj6z3wg/"
    "0UNRv08Uz71m7EQ/6yeSPou3tj0LhDG+ipepv7bq/z7eWFK+Fd+mv+GnXz/vfGU+W7ipP/BowD8B0iW/WI4nvb4enj6QJRC/"
    "yehOP+GjJj8SpYI/+Ex1P/O5876YTc4+wU9LPv9tgb8rjjc/o3GqPoZ5Qj/VB58/VcAEvRn7TD7kroa/U/q6vbZ/Cz+c+609"
    "7gfkvlL84D6EHEW/9g45QDwPXUBB5b6/kt6JPyTT8j6IzFy+Uaq5Pw9ocr8nWxI/1AOUvUhIRL86Axg/YVvwPu0WPz+cAV4/"
    "sUTvvsUTcz8K2Y++VPdIvxuijD9O3mA/1gTxPqJ/Xz96aVu+Pum0PcHoP76zzI09svoMP0eQzD5KGns+NE7RPuYEyr6hAA4+"
    "GUJuPv/XC79Meis/JsOGPjedGD+GcQQ/8OYEP+pWEj/D1vC/cLC2v+bfyr5QmNu+4NwfvyuOwjvd7Lg+Mlj9PWGuvb15t8k+"
    "u9HzvQtdtD3jXHU+VUetve6Fh753mpK+MxM8wGRkoD7AX4m+boX1v7KnGsDxt4G+qYBgv82UoD70gqu+NT37vr5J5z5LzAg9"
    "hpgGP5WGhz/Lt1u/LznpPr0jMr3iLgi/zxASP7Sa0D6iN6E+O9I+P+T8iT7fdZu+PXQrv9c2Lb5f1+s+rjFUvniZsj6h0i4/"
    "8aQGPuCR/L76W1m+dqoWP2wNh7zc1Ya9aaHXPoGSuT1hQBa/fVofPqLUMj6JiVa+77Q8PqOPKD7Pw44+6xcDPxt/xr51b5I+"
    "pD+CPi4u/D6BvRs/1YtHP6GJn75kKHQ++Lamvq38fz5A/4c+UXyovu5Agj6eVYU+e6dmPjvEjj6tC6y+y3stPdKg+D2VRTE9"
    "JlCzPmoGyz4j8bi9G6TmPrQ4C0IB8Ly/J8gowVfaEUIZObPA9CMZwWEp4D8aqJPB+BItv0R3XD71Of8+3JSovq/dcz61h44+"
    "alHiPoAvED93UrU8tncUvq2iI74fzAq+65qRvXF4wb3ylkS+INSuPQwSjL3YhRY9BKAdPsBNSr6mlCw+mDPZPd5yAL1moM49"
    "bZTTvaOvYz1TqbY81/v8vabGOz3BF1w9KYPNPBLLlD0eh7e+948kPv7cwD6PcNG+VurrPhMrCD95pyw+9dqaPrkwNL6Nwka+"
    "V82PPQb7wT51Rfs7HgKUPXa9er4gwSU+yXFJv0x3JT98RvU+zzZLvwdTIj8pm0w/s9Qxvn+cnz81bE29jCoxPPFmpLwnr7E7"
    "IUubPd5FCD2holW9CtwOPQ+1jL0YwRs9+UQQPZGPkbpXlic9bQmhPeZ0bD29+w28xhF8vbxs/T2fDkE9ZGuZvqoNWT4/PoU8"
    "Ni+5vfT9kT1idLi+yZ8oP5zuEj8kGDY/kz8sP6x+QT8lUaY9uYYev807Jr8jCeW+NK3ovJi8wj8WO9a+quYYvX+oKL+Ksq+/"
    "VZAHPw+x/z0KAoA+bwUsPo2hmj67Pqs8BdwRPoMuY76+9Dw9P8LDvj3Hlz5wVz+/bppuPQw2s76bOxE/JHRAP4II6b4Jj4G/"
    "7PvpPmZ7cj+gu+++8zW3vkbTgD8SBJw+/AmaPpVCLz4M7Bm/vcVqvq+O570tg9q7Z4Y7vnyxRr/ywAS/WYjOPjn0CT8HZ4+8"
    "xxv3PttzWT/ZfSk/Qq0SPnqJTb/ZNtA+Gh4SPkazP7+ixjg/cml7PrjjAj+kxqA+k4mTvybonz9t5KM/bJACv6TVkz/j5No/"
    "Ry2TvpCbYr4rd4I9APV4v++cKkBtSN7Aoiasv14Y4T9jfxZA4RFjP+JQAMB4ijBAeN1GQDowi7+EXQ5A36IhQMsRMT/wy9c/"
    "K+2lv+nfHz9r8JO+w0MrP2D51j1p0x+95qA/v0PALr2qD/o+S430Pl6Zn75Tlw2/cbw5PxLWAD7Efoe+YOZsvq54fz6Bzbo+"
    "/59jP+gazLw00pE/HnQrP0/+oz8DInS+K0x2vw43Bz5sXUM/yPYTvlJNcj6sLw4/8qg0v4jyyL0AEx0/BPJkPjOBSz4CzOc+"
    "y1cRP0MgzT6x0A6//t14v7bpnL6lbJw+qKOePhlv1D4xhuY+yzetPnpUMD+sa+u9kHjuPhDTuj4rDRu/eoBtPla6Rj4QavK9"
    "0p44vhdmZb8dBF2+ZVW/PQLIUj/dTag/6UEAPzdLjz/fnJy+JYEvv32yOD7xV68+ATzvPiZXkT7bw7w+6SwDPgYZNr2lLO49"
    "BgC7PzyRE7/44E6/A4IgPzeC5r5njj6/x6Y1vqG/c7+p1PI9LkQ7v6Apdb4YtsU/t1XdvgyWC7+hzOs+nT24vs4jCcC+K7c/"
    "rBOTP9aj7z2Z30c/FwPlP5/mWkC5nY8+5L6Qv2cTjj9F4Yw+P4YdP5J4Cz5PSNW8vOQdP63sHz8WaX2+Bw93PlJ8l75tEo4+"
    "BlG/PpQIxrgRJ2Q8o2hAPeI3D0BfNK2/qfXUPTvXLj+EkQq/E36Fv1yND796Jjw+Oei3v4B8Sz+DuZO+z4jhv+sbQD9sU18/"
    "C8gev4DyVT8PUQG/MAi0vbQ3xT464lq+KeesPnbh/T7WAI4/Rax3PtCY979RPeM/G6YRQL9s2r+SDOQ/ZXAWQKQ31z/hfqs/"
    "2MUEP3vRHL5mGUu+9sKHPVPmsb74TKi+F6aHvS9JAL8aobs9QPoPvzun1D7N4tc+yuUQP0jXCj9Hd50/wlOKP4dNs7+GmQY/"
    "nkz6vewrd79/xXm+gEP5O1iovD2q0jk+spOEvlezQT6JmS89B28dPgvZAT4WeBg+w4X2vQ5rrz2uv569gMmHvsajhb3JTnQ+"
    "/iBUvp6UNr4dkOK+QwWQvpuYf7wjdAw7VX/bvDZp7z1/mk48/b8HPURYP703r8E9xRsWvblTNb2iXhe+6Ga4PbSU7bzU90C9"
    "R6avvdrTy7y9Mr4+biQ2vsGYKb7gtTi+YrC2vr0ksL7wN+49oT/1PY/Ba76K8nw+OFgcPkDi/j0PKok+SIWiPrITEr6oelI9"
    "Eb4SPcF0Ar7wu/W83dQMvgz/Kj3Q+BM++HNdPSgnRj6cdXa6immqPTTftrw3eXE8hOv7PXdEPzxnIL09IMl2vVq//r308Ws9"
    "6NStPYAXmzz0+Jk9qxLNPV+b9L75W+C9Fu5pvzX4pz0jSYE+C0PCvZ66xz7eG7I+6zwLP/kLQj+/IN897qZ2Prkjdj54D8++"
    "hMr/vCVYSD0k9U09URcNvr/4+Tziny2+ZT05vbE5FT5mGLS9MpyoPXOoBj1RoJE8sb4tPrsV47xVzFQ8cYg8vVTIGD6Xldc9"
    "CTAPvruGmzwaF3o+t6m0vdUKar4FDLk8V3sKvscD/70lQzI+aKNavsJ68L3Fdny8A8v5vMab6L1ke/88A+V0PGSf9r3LqE89"
    "ruqCvD/VSr66gyq+SpYMPv4WC77j8hK+rFIpvpPCCb4LMSq+bEAGvNiTTT0UbgK+cpJTveRiirxr8z+8fOdFvpNiqz4a2EC+"
    "T3LPvqUoyD0DCKq+HsijvttBTL5X1CG+XdIDvUp4yz3cv5096N2HPWT+Jj7uWCQ+GMSVOiJaJr3O3I+91avUu3AC7z2bO8K9"
    "ztP/O8jb+j2BxB++eycQPvCM0D107T29ELO7u97UMT7BZHA93fS2PZr3kb3NX6q9nSQgvmZhAb0qG1E+PEwBPybMiD3ut3e8"
    "aoC1vo/t573S7jO/jXEjPi02Lj6Jvd8+FszaPoaAaj496iI/1NCNPu1kTr+Zeny+D9iLviFzjD7gpbS+nT6zvgaZvT41ARo/"
    "1QxQvdXiAD6mjzm+wiTQvXEGNz5Sa0U9nbotvuoEdD5gDvM+6NttvitwjL5huZi/s4nmvlkpgr5DApc/JU7APtoSjL7Ibly9"
    "8CkkvoreCj3LgWY+FdLMvRJrMj57NLE+YlsHP1VN775vasi+P6u2vpS7tL72sJe+MZLGPmtedT3FNLG+67N5PqRf0T1VOYa+"
    "OxQePmLBtz2JzzU+WbdKPhRo6j0pE3i9MhSSvWqqC7xOHKS9OBOqvM5GXT0RYi+7iRl4PQMDI73ag3E+unXFPiBYPT4/3QM+"
    "fA8KPnrS3j3tBzm9q41NPYzLZ70yK12+wsUEvjgxfr0WBOg7dfzVPbXB+j0MukE/9aGJPwY6CMDqbBo/mVBpPw1PB0DJO4c+"
    "0xv7wEgaxr4K/jQ/ckhtP18IC0D+QoM/0N+xP0pkf0An4uO/wR3CPj3KDT40+SzADw4ivyd8W7+THAy/raFSQAHYakCj5VzA"
    "QOF4wN8uIL7zRl3A6DOFwIP/kT546yfAPQAJPyqseb9P8LG+oqiCvBlb977vhTu/mqiXv7pDrb8wPW8/Qg6AP0Md/D+I5TrA"
    "zwISQMtrCT+m2v093JJKP1HThj/vSkrA7v8JwF7Srz8Vj4LAbLQ8wBo6tL5zc13A5VAqQXfbccBNBHg+vrHPQKJbucB9yHvA"
    "aKR+PmdXxL+8OFC/pKejvyh5jkDNf0jAmt86P0DJCUCoQkJAut8Av/a89sDfs3O/q7Fyv6EQNkBDYcu/NJBivyG9C8DdtZm+"
    "iRaYQNiZ775Kl909aFUDQPFO2z8/1irAfzrBQCTthMBEorU9ZMfDwMLPA0GDsKrAtEyZQCHYH0G58NJAzcUEQLI1ub/i3js+"
    "Jc9GQJF72cAfxM7AqACnwMIbyEAh9F7A19KWPWW1PL+hBwtAwoFswH70Zz58UE8+sJViQKpmKr+7EJ5AxCITwIMJgsBI5AHA"
    "ypMfwJDtX8A1Z8u/WVEowOLdbsDzBVhAYC6EQFGAScAz+9k/OnLeP2dB/D8R898/L0UXQLrsoUAXzMe/DF6lwPpViz+ntLfA"
    "M72oQKeB/z6kqaxAMSY3vl3Igj69gzvAySrDPhM16b+ubHJAonBdP3jPsUDYvJE/J1kSv//p6MDTABrAio58wOw1BkADvv8/"
    "iv1HQffuA8GrErzAdkIjQB88Z8Hq1zjBAFIYwAj2MsGx0u4/6JERwOgZl781dLHAgBVMwJ0mAcCAEaw/+UUZwGk1gr8igou/"
    "n9j5PqkoNUBrxse/lKn2PXFyHsAGKXLA9pIZP0DzyT9XdU3AnNWJwACWS8D2LV/Ar1lDPwCQAMAmjjVAzOuuv4Foab9ve1e/"
    "17s5P4UnrD40vA+/ZNcnv2fZY0COGE4/o/ouwPc6f8DsEzW/zrb9v+EA5z8lJjFAHeKiQKGCYL9FuQ/AhTuWPx5v1D7/ggvA"
    "zLAlwA77H0CgeUvA88mKQNf0iUCOURfAjTO9wL7iYcBDxGpAkKmJQPZUzj9fQhw9G2nLP9amBcAvLwNAuVHSPoVFSj9m2bw+"
    "q/GsPq6T2r+0L4HACDqFwKUuhUB9R7W/TNygQBkbUkCW6l7BxfOAvw/+I0DKR92+IywIwON6mkBoGQzAOBRgwH+NIkCyyyq/"
    "gZCqv/mGdj/K94I94US+vo79yb+d8x9A6QKCvpOwF0A3Neo/u/pWwBGlZEDi3VdAfJaJPpPQmT7Re3XAPIuRwDPmDUAxt6e/"
    "AQMPwAxYpD6jgxi/yo8WQOJxdz9x+F9AqWS9v7WqosAQ6Ei+nJucv+DgBkD/c29AHhSnv/WSOz9pVa+/fxSbwEK7REAwDRpA"
    "gkuKQEQqs76fn1HAchkOQOK64j8AJDnAvfh0QMCgOkDwT5dAR7gnQBpyKsB7qopAPyI1QAm6YMAzrZdAUPJ4QPGfl0D1vgXA"
    "+kUtwFBZQ0Cua7xAaOytv2aOb0CW46BAln+FQOEiIb+cR2RAk87aP6Jq/D9rLM2+kkDmPzF7OED9Ug6/6orpvwfgJEA8o8U/"
    "EG8xP2z6y7+6fqk/S42APwkb5z76EDy/Zn7QwE1kPj/cerFAO4xivTdGE0CUHiRAaziEQChNqj7C6STADbP3Ps1Ytz5Ak+G+"
    "IdxRP26jGL/ATiM/fo+Hv4/CE8CtHr8+l3zPPilxlcDVBgTAknp0v5j5nL/xqrg+jdsbwLrZlz+5iMC8FmQDwHcatr5abqi/"
    "GiEawFlNKL6iufXAIub+P6/RSD7ASKlAfhWgQEhBRkDinV4+khi9wJKEv8A/d2JAlf2QQGcwGsDrEYFA0YVPQHQ7E0HK8IVA"
    "QijLQAoeBECKN0rAo9Dmv/msCkBBsz4+HzOgPjvUqj8ZgzC/LBGZQN8VZ0DAqwDAWaGwQJcFr0C5woc/bP+DQB79KL+7D72/"
    "7yCmP69rKECT1LO/IBuevg6ny78LBes+C16Tv8DXIr/oxKQ/V08EQDH1oL0TaSq+Fqn2P2TkuMAdbWvAPqeCwCuKIcCGbDZA"
    "Y827v8tIDD96m7RACOI5v/UDzb9hnw6/L+ovv53+9j/5s4E9jGCdPk8FvL/XGSm/cAnPwFpRnkBp7JpAQJvMPnKq4D8AHD1A"
    "aIhKvwga3r/bkIfAEBy3P8Th6T/r0LC/Dp8jQGQAKkD00jlAw+gRQFeppcA/IdFA+7YJQda9Tj8FiP8/jRchQE8DakBoCaI/"
    "iIgSP4b0iz/4ncRAUAnVPp0aAb+Cb0RAr5EaP7PT6D8v3szA+vNSP0s9dEASQYZA+TNYQJeT1j/EQ6Q/InpoQFPVdr/TBjW/"
    "fQHDPUdZg716fGM+jna6PD43kD9s0Se/nfFXP2dIFr+QXLq+KC+pP1QbHUAMfpU/92yEQD/cK8Btu2q/a+ysvpocGkDFJhbA"
    "LTwAP/rqpD+P2DJAF6gTPzRz/r8s8SfApsXHP1pEvb8QvcG/Bl2EP8gS6L/82x5A6ZlKP8dPTL5FQoa+h4aJvhYC5j6iQa69"
    "8yx8Pxf7Hr/K8Jy+8lQ/vwZjbb4WU3HALFQpwLRKwr/nRt0/utksQJDNab6AegxAOarLv5/1Rz+xJm2/Zh4/vzPEuD9fHjk+"
    "B8X5PcscUr18E9k8TJwyPEmjg76mdxq+PrRpPagliL43xDW+58MUv4eK1L71haI8cBqdvnpp4b5TrBU+fGyHvVcprL5tkDk+"
    "dxUTPPB20D0wK0a9SZn+O0ijyL0rdQM/6XAvPqQTxb71Mba+uqoavsQfab5hW6i+wJyhuwjMrj6d9Ju+LmOlPZHhxjspu98+"
    "32o1vWv2A74jwp2+Q+y1vrYzAD4szbI9h6hpPvKNTT50muY8jrpGPnwif75mcdK+vqPBPXZ29TwRwOS9WKGFvrmuZb73gli+"
    "GjRYvRFYA7/lR4E95yn7Pnr2Eb7WFw4/IYJOPikdBz/Ga2M90ztwP0YqZT4Yivi7nX0yPvs0Ir45nHa9WtU1uxlz1T1Hlza+"
    "578bv2yl6r2+Nzq+Sj8FPxFJQb2tuTg+asgAv+wwo71Zacw9H2mdPRkHWz4NQ8U9+i6BPtH8kj1dH909esGAvp7M0T6r8wm/"
    "utglvji/gb7Twni+oUotvc2OjL0fVBe/3CFVP8/xpr47sl68x2YdvwhwGb94g72+W/iuPs22Y79s1oo90YqZPKsE/z2b5oi+"
    "wbYlPahepL0GJuQ9MQ4uPhgm7D0x6CE+dpZAO4D5fb4KuDu9fmXBvO2exb03BcY9Up/3vpor2j6X+7A+XbfGPfUY8L2hEvA8"
    "BcMPPQsGlj3N5RA+RdXVPrm3J76i7gy+G+QuPTBNXb+tp6a9k/fNPf5V6z5KLBW98x2IPa91D7/oZMU9a+RXvdUb2z4saXw+"
    "f+1cP55xlz7GwUc+oSJZv7wMqzz/AVW9wktHvhGpQT48ZoO+LaLuPquPRT5emyw+yovOPU8GBT/nKwc/KSq5Ph2T0j53C2o+"
    "gCLiPbmHF7/dRPM6ecQLPhoRuL2AvBI/aI5BPsE4n7ykgcc9t4uiPtbWH7xpmAo9/UWovilas74hsRc9qlKrPTKfzr6qL6e+"
    "dzGlvnN1Cr8PbjA+drIDv0qn8b7Ha0w99wMWP3hqrL0539Q+WZztPnSkyD6qJRs/qWfZPhzj8z07d0e+6/ihvjTEEj1Z6gW+"
    "yaNcPYzOKz5KK0M/347fvmFQs741gAm+cY6nvkFhyb4Sf6C+3o6sPuxC2z4Exjq/ie/MvhZgtT6VQ0y/0xiLv40W8r2FdxQ9"
    "XCcfP2I+z72Dphu+lGoxvap1Jr1OwjW9l0CpvjFQO73PR6k94XuRvjwBS7/cbRu/0okhvM3qQr9v4kY/O5rfPpkC6L7uLti+"
    "QDkrv4AEMT7CDTO/IpJxvkXXkL+eMEi/ftCUPpmZvj6pSgA+s7WvvhpoqT4OCU4+x8CqPCSu0j7kjOQ+Zj0BvwYiCb//XMs+"
    "0LncvquHur6Bh/u+x73Ovo7JLD4Hu9m+D54zvqarBb7AbbS+3/qKvnPVq75P65I+p5gtPyfPDz9Gxiq++Prlvo4psD6tgBs+"
    "DARFvgExeD+YiNw9GgZsvREQG75s7Va+vfNVPoaEAD4Ldk4+4XjcvltqSz4qLim+pazYvghC0r2IPHa+y5+Mvsn0oz2xpZY9"
    "4dFovbwgOz4ycos+fTWoPjLRsz61XVg+B23HPu+zub6H4aa+B1+bvvFZ4j3xHRU/toa4vrSmr77W42M9LRnqvv3/0T6ENDo+"
    "t4+EPvHJkr3L3T4+s7B4PiIrjb4Oj5S+hCfuvJr16z5ntWc9cLXvPgdL0z6vZ/4+cnX8PVxRLDzeP+2+DlwEv4S9ijwtS4c/"
    "0sLJvoOit74Qk1G8fIkFv5yb5DtV8Xq+UAhmvl68jD6yl0u+R4IHvje8rr71V1S+faCKvRdDMr71+gk9iK50vn5y/L7GJIu+"
    "DzPkvRV1uL5lyCi9gMqGPIGwub0XjE6920tDvrXcTr5Rr4K+ZgSCvuq+Az59HZK+sEigvuWyKT8e3Cy+9d5GvllF1r6C+By/"
    "kw3Svr7j27tz7DK9jzPEPj+6Sz6ovEc+DixVPuDUAj4M//A9SUmoPvoUdr6tUa0+epAAPq52HDyxtbK8qLd5PS0gyj0J3So+"
    "q40/vnFjbj55vZ2+NUOavkQbhD3t/eg91yDxPUNi7b6HK4++iq8MP0zKBr/V+BW/PC/Bvu1hqr4BpiW/TpGnPqA/yT7S5zI+"
    "abj7PqdssT6EJLY8pJRwPQUhDr61aQi/Pdojv6ww/T7Kf+W997qvvtEWnT1hHa6+Amk2v3KOsr5YqC2+LYkqP/2zDL5gRTq+"
    "TMl0uSGxlz3qQOC+Mq6vPklTRL5yE4I+TUNRPu5tAj5FCFa+AvxVvhoeED7WLoS+v0O4O8sWnz3DRQe/cKZ6vo3j4L35oWq+"
    "Su9yvpsUrT7J55e+PYktP6R/Vr5P+Zi+YjsCPZAPqT7qUI++tw86PPs3ND4cx9w+h4Clvud18zz6LI2+Vk6GvoBfKb8OneK+"
    "GD9TPi4vGz+B5zA/dSr2PqcsHT1Qz0w/PlCNPoCaPL8tsgK/7mgSP7nwPL/BoyC/fliGvmwzH7/cSBI/LgIfv1Tbtb6gFD4/"
    "UKI0vtpDmr4UsMU+mAM/v4mSh72Hii6+mnttPTFtoT0iVpU9mk+5Pc6K0j12nFO91Npfv9D2pz5smIc/+r8fP7y9cD9hjw4/"
    "EdKXvl6NOj9xeOY+W0ZSPn41PD36ONG+rS6xvanjNj4GnxI+vnhLvhk6Ir7OHuS+ewnDveR+tDxG1MC+eBgQvrNCs76a7CQ/"
    "gzGhPSg4gD6ZlRA+1IgdP1t7Gj6mLjG+D8F9Pnz+m74k9309O94Evd1izLoJu7i9rjOkvDuc0zvRPpi7CmI+vXAFsD1IAG48"
    "JIroPLqrz7ykgM88UR0xPT26w7xJ7cA8wnXCvc/TkDwstre7c+bTPWBBcjzLEEi8WTX4OhJ6GrxwEqU9sCcEPHpi8LwMYD29"
    "FzMKvTlPg71fLJm8ctkSPcmZ0r28g6s8e4JPPMKhcz3KsK881mbSO+GjND0KBQ89wWiwvC6XOzuJTjK8qo3MPX5HC7yatlC8"
    "uOuxu9CZljwgePQ8uFXbvPibWDy0rmW9BPQjPVTB+DxwSuc8HOYNO6UKsL0c0Zo7LYw5vKsIpjyfvEm5rqMHu7F0hjrHQUc8"
    "CYyhPU+tazzdWl27PW0dvaxONjzJVhU9dgRNu286Gj0msam9IkSfvB/nrDwJMpU9slWGvOuDRDzXv9i8pm13Ovx+nr/A9qe9"
    "ZLjqP75FFL9S7iA/sTgMQGTxCEBEmWo/f31sv3v2hL/zoPS+PIyRvTLaij486dI+T3bhP1bzED/z48k/n5V8v8Vcjr+P5tQ/"
    "1b49v43EOb9ADru/J0iJv1FkWr8k3sE+t/W7PsGP0b5EOTc/AvgiPwnkNT+UbSA/Y96sQHKdb8C7cKC/HGr/wL8UQcE8ThjB"
    "LhIcwfldP8H7Rok/Aflov30Nh7/UOpM/MPKKvy2ser9PV4y/7dukvw=="
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
