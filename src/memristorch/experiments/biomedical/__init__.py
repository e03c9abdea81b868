"""Biomedical BNN studies: MIT-BIH ECG and Bonn EEG on 2T2R RRAM, and MobileNet V1 memory accounting."""
